"""From a consumed event to deliveries: keep a copy, learn the episode's parties, hold or fan out.

Everything here runs inside the consumer's transaction (with its inbox row) or the hold sweeper's; an
advisory lock per episode makes the two take turns on one episode.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.notifications.domain.filters import EpisodeParties, Filter, Party, matches
from services.notifications.domain.holding import hold_reason
from services.notifications.domain.ordering import ESCALATION_PRIORITY
from shared.events.envelope import Envelope
from shared.events.intake import ReferralReceived
from shared.events.pathway import EscalatedToReferrer
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class HeldEvent:
    event_id: uuid.UUID
    position: int
    source: str
    event_type: str
    subject: str
    occurred_at: datetime
    causation_id: uuid.UUID | None
    hold_until: datetime | None


async def lock_episode(conn: asyncpg.Connection, episode_id: str) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('notifications:' || $1, 0))", episode_id)


async def record_parties(conn: asyncpg.Connection, episode_id: str, referral: ReferralReceived, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO episode_parties (episode_id, practice_agb, referrer_agb, known_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (episode_id) DO NOTHING",
        episode_id,
        referral.practice_agb,
        referral.referrer_agb,
        now,
    )


async def parties_of(conn: asyncpg.Connection, episode_id: str) -> EpisodeParties | None:
    row = await conn.fetchrow(
        "SELECT practice_agb, referrer_agb FROM episode_parties WHERE episode_id = $1", episode_id
    )
    return EpisodeParties(row["practice_agb"], row["referrer_agb"]) if row else None


async def _cause_pending(conn: asyncpg.Connection, causation_id: uuid.UUID | None) -> bool:
    """True when the cause has not been fanned out here yet (not seen at all, or itself held)."""
    if causation_id is None:
        return False
    fanned = await conn.fetchval(
        "SELECT fanned_out_at IS NOT NULL FROM received_events WHERE event_id = $1", causation_id
    )
    return not fanned


async def receive(conn: asyncpg.Connection, envelope: Envelope, now: datetime, causal_hold: timedelta) -> None:
    """Keep the event, then fan it out now or hold it; what it unblocks is fanned out after it.

    The common case — parties known, nothing of the episode held, the cause already out, nothing waiting
    for this event — is decided in one query and the event is kept as fanned out at once; anything else
    takes the walk through the episode's held events."""
    await lock_episode(conn, envelope.subject)
    state = await conn.fetchrow(_STATE, envelope.subject, envelope.id, envelope.causationid)
    if state["seen"]:
        return
    parties = EpisodeParties(state["practice_agb"], state["referrer_agb"]) if state["parties_known"] else None
    reason = hold_reason(
        parties_known=parties is not None,
        earlier_of_same_source_held=state["episode_held"],
        cause_pending=not state["cause_out"],
    )
    at_once = reason is None and not state["episode_held"] and not state["others_wait"]
    position = await conn.fetchval(
        "INSERT INTO received_events (event_id, source, event_type, subject, occurred_at, causation_id, body,"
        " received_at, hold_until, fanned_out_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING position",
        envelope.id,
        envelope.source,
        envelope.type,
        envelope.subject,
        envelope.time,
        envelope.causationid,
        envelope.to_json(),
        now,
        now + causal_hold,
        now if at_once else None,
    )
    if position is None:
        return
    if at_once:
        assert parties is not None
        held = HeldEvent(
            envelope.id,
            position,
            envelope.source,
            envelope.type,
            envelope.subject,
            envelope.time,
            envelope.causationid,
            None,
        )
        await _fan_out(conn, held, parties, now, mark=False)
        return
    await _settle_episode(conn, envelope.subject, now)


_STATE = """
SELECT EXISTS (SELECT 1 FROM received_events WHERE event_id = $2) AS seen,
       p.episode_id IS NOT NULL AS parties_known, p.practice_agb, p.referrer_agb,
       EXISTS (SELECT 1 FROM received_events WHERE subject = $1 AND fanned_out_at IS NULL) AS episode_held,
       EXISTS (SELECT 1 FROM received_events WHERE causation_id = $2 AND fanned_out_at IS NULL) AS others_wait,
       ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM received_events WHERE event_id = $3
                                    AND fanned_out_at IS NOT NULL)) AS cause_out
FROM (SELECT 1) AS one LEFT JOIN episode_parties p ON p.episode_id = $1
"""


async def _held_of(conn: asyncpg.Connection, episode_id: str) -> list[HeldEvent]:
    rows = await conn.fetch(
        "SELECT event_id, position, source, event_type, subject, occurred_at, causation_id, hold_until"
        " FROM received_events WHERE subject = $1 AND fanned_out_at IS NULL ORDER BY position",
        episode_id,
    )
    return [HeldEvent(**dict(r)) for r in rows]


async def _settle_episode(conn: asyncpg.Connection, episode_id: str, now: datetime) -> None:
    """Walk the episode's held events in arrival order, fanning out each that may go now.

    Fanning one out can unblock events of other episodes that wait for it as their cause; those episodes
    are walked next (each under its own lock).
    """
    todo: deque[str] = deque([episode_id])
    walked_locks = {episode_id}
    while todo:
        subject = todo.popleft()
        if subject not in walked_locks:
            await lock_episode(conn, subject)
            walked_locks.add(subject)
        parties = await parties_of(conn, subject)
        blocked_sources: set[str] = set()
        progressed = still_held = False
        for held in await _held_of(conn, subject):
            reason = hold_reason(
                parties_known=parties is not None,
                earlier_of_same_source_held=held.source in blocked_sources,
                cause_pending=await _cause_pending(conn, held.causation_id),
                cause_deadline_passed=held.hold_until is not None and held.hold_until <= now,
            )
            if reason is not None:
                blocked_sources.add(held.source)
                still_held = True
                await conn.execute(
                    "UPDATE received_events SET held_for = $2 WHERE event_id = $1", held.event_id, reason.value
                )
                continue
            assert parties is not None
            await _fan_out(conn, held, parties, now)
            progressed = True
            waiting = await conn.fetch(
                "SELECT DISTINCT subject FROM received_events WHERE causation_id = $1 AND fanned_out_at IS NULL"
                " AND subject <> $2",
                held.event_id,
                subject,
            )
            todo.extend(r["subject"] for r in waiting)
        if progressed and still_held:
            todo.append(subject)  # an event fanned out late in this pass may be the cause of an earlier one


async def _fan_out(
    conn: asyncpg.Connection, event: HeldEvent, parties: EpisodeParties, now: datetime, *, mark: bool = True
) -> None:
    """Deliveries for the subscriptions that want `event`; `mark` records it as fanned out (unless it was
    kept so already)."""
    candidates = await conn.fetch(
        "SELECT subscription_id, subscriber, event_types, filter_party, filter_agb FROM subscriptions"
        " WHERE state <> 'gone' AND filter_agb = ANY ($1::text[]) AND $2 = ANY (event_types)",
        [a for a in (parties.practice_agb, parties.referrer_agb) if a],
        event.event_type,
    )
    chosen = [
        c
        for c in candidates
        if matches(Filter(Party(c["filter_party"]), c["filter_agb"]), list(c["event_types"]), parties, event.event_type)
    ]
    escalation = event.event_type == EscalatedToReferrer.event_type
    if chosen:
        await conn.execute(
            "INSERT INTO deliveries (delivery_id, subscription_id, event_id, event_type, subject, priority,"
            " causation_id, occurred_at, next_attempt_at, created_at)"
            " SELECT gen_random_uuid(), s, $2, $3, $4, $5, $6, $7, $8, $8 FROM unnest($1::uuid[]) AS s"
            " ON CONFLICT (subscription_id, event_id) DO NOTHING",
            [c["subscription_id"] for c in chosen],
            event.event_id,
            event.event_type,
            event.subject,
            ESCALATION_PRIORITY if escalation else 0,
            event.causation_id,
            event.occurred_at,
            now,
        )
    if escalation:
        referrers = sorted({c["subscriber"] for c in chosen if c["filter_party"] == Party.REFERRER.value})
        if referrers:
            await conn.execute(
                "INSERT INTO escalations (subscriber, event_id, episode_id, details, raised_at)"
                " SELECT s, $2, $3, (SELECT convert_from(body, 'UTF8')::jsonb -> 'data' FROM received_events"
                " WHERE event_id = $2), $4 FROM unnest($1::text[]) AS s ON CONFLICT DO NOTHING",
                referrers,
                event.event_id,
                event.subject,
                event.occurred_at,
            )
    if mark:
        await conn.execute(
            "UPDATE received_events SET fanned_out_at = $2, held_for = NULL WHERE event_id = $1", event.event_id, now
        )


async def release_overdue(pool: asyncpg.Pool, now: datetime, limit: int = 100) -> int:
    """Fan out events whose cause did not arrive before their deadline; returns how many episodes moved."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT subject FROM received_events WHERE fanned_out_at IS NULL AND held_for = 'cause'"
            " AND hold_until <= $1 LIMIT $2",
            now,
            limit,
        )
        for row in rows:
            async with conn.transaction():
                await lock_episode(conn, row["subject"])
                await _settle_episode(conn, row["subject"], now)
        if rows:
            log.warning("notifications.cause_hold_expired", episodes=len(rows))
    return len(rows)
