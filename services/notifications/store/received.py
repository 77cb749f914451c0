"""Notifications' own copy of the events it consumed (received_events): what is known of arrivals, keeping
them, and the held ones (those not fanned out yet): walking an episode's, marking them, the overdue ones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from services.notifications.domain.fanout import KeptEvent
from services.notifications.domain.filters import EpisodeParties
from services.notifications.domain.holding import HoldReason
from services.notifications.domain.routing import Arrival, Known
from shared.events.envelope import Envelope

KEPT_COLUMNS = "event_id, position, source, event_type, subject, occurred_at, causation_id, hold_until"

# Each test is a scalar subquery with LIMIT 1, not EXISTS: Postgres may plan an EXISTS over many input rows
# as one hashed scan of the whole table, and a prepared statement keeps such a plan made while the table was
# small — a full scan of received_events per batch, growing with the table. These always probe the indexes.
_KNOWN = """
SELECT coalesce((SELECT true FROM received_events r WHERE r.event_id = a.event_id LIMIT 1), false) AS seen,
       p.episode_id IS NOT NULL AS parties_known, p.practice_agb, p.referrer_agb,
       coalesce((SELECT true FROM received_events r WHERE r.subject = a.subject AND r.fanned_out_at IS NULL
                 LIMIT 1), false) AS episode_held,
       coalesce((SELECT true FROM received_events r WHERE r.causation_id = a.event_id AND r.fanned_out_at IS NULL
                 LIMIT 1), false) AS others_wait,
       (a.causation_id IS NULL OR coalesce((SELECT true FROM received_events r WHERE r.event_id = a.causation_id
                                             AND r.fanned_out_at IS NOT NULL LIMIT 1), false)) AS cause_out
FROM unnest($1::uuid[], $2::text[], $3::uuid[]) WITH ORDINALITY AS a(event_id, subject, causation_id, n)
LEFT JOIN episode_parties p ON p.episode_id = a.subject
ORDER BY a.n
"""


async def known_of(conn: asyncpg.Connection, arrivals: Sequence[Arrival]) -> list[Known]:
    """What is known of each arrival, in one query (take the episodes' locks first)."""
    rows = await conn.fetch(
        _KNOWN,
        [a.event_id for a in arrivals],
        [a.subject for a in arrivals],
        [a.causation_id for a in arrivals],
    )
    return [
        Known(
            seen=r["seen"],
            parties=EpisodeParties(r["practice_agb"], r["referrer_agb"]) if r["parties_known"] else None,
            episode_held=r["episode_held"],
            others_wait=r["others_wait"],
            cause_out=r["cause_out"],
        )
        for r in rows
    ]


async def keep(
    conn: asyncpg.Connection, envelopes: Sequence[Envelope], now: datetime, causal_hold: timedelta, *, fanned_out: bool
) -> list[KeptEvent]:
    """Keep the events, in the order given (their positions follow it), as fanned out or as held; returns
    those kept now, in that order (an event kept already is left out)."""
    rows = await conn.fetch(
        "INSERT INTO received_events (event_id, source, event_type, subject, occurred_at, causation_id, body,"
        " received_at, hold_until, fanned_out_at)"
        " SELECT e.id, e.source, e.type, e.subject, e.time, e.causation, e.body, $8, $9, $10"
        " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::uuid[], $7::bytea[])"
        " WITH ORDINALITY AS e(id, source, type, subject, time, causation, body, n) ORDER BY e.n"
        f" ON CONFLICT (event_id) DO NOTHING RETURNING {KEPT_COLUMNS}",
        [e.id for e in envelopes],
        [e.source for e in envelopes],
        [e.type for e in envelopes],
        [e.subject for e in envelopes],
        [e.time for e in envelopes],
        [e.causationid for e in envelopes],
        [e.to_json() for e in envelopes],
        now,
        now + causal_hold,
        now if fanned_out else None,
    )
    return sorted((KeptEvent(**dict(r)) for r in rows), key=lambda e: e.position)


async def held_of(conn: asyncpg.Connection, episode_id: str) -> list[KeptEvent]:
    """The episode's events not fanned out yet, in arrival order, with their place in their source's stream."""
    rows = await conn.fetch(
        f"SELECT {KEPT_COLUMNS}, (convert_from(body, 'UTF8')::jsonb ->> 'streamversion')::int AS stream_version"
        " FROM received_events WHERE subject = $1 AND fanned_out_at IS NULL ORDER BY position",
        episode_id,
    )
    return [KeptEvent(**dict(r)) for r in rows]


async def cause_pending(conn: asyncpg.Connection, causation_id: uuid.UUID | None) -> bool:
    """True when the cause has not been fanned out here yet (not seen at all, or itself held)."""
    if causation_id is None:
        return False
    fanned = await conn.fetchval(
        "SELECT fanned_out_at IS NOT NULL FROM received_events WHERE event_id = $1", causation_id
    )
    return not fanned


async def mark_held(conn: asyncpg.Connection, event_id: uuid.UUID, reason: HoldReason) -> None:
    await conn.execute("UPDATE received_events SET held_for = $2 WHERE event_id = $1", event_id, reason.value)


async def mark_fanned_out(conn: asyncpg.Connection, event_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE received_events SET fanned_out_at = $2, held_for = NULL WHERE event_id = $1", event_id, now
    )


async def episodes_waiting_on(conn: asyncpg.Connection, event_id: uuid.UUID, other_than: str) -> list[str]:
    """The other episodes with an event held for `event_id` as its cause."""
    rows = await conn.fetch(
        "SELECT DISTINCT subject FROM received_events WHERE causation_id = $1 AND fanned_out_at IS NULL"
        " AND subject <> $2",
        event_id,
        other_than,
    )
    return [r["subject"] for r in rows]


async def episodes_past_cause_deadline(conn: asyncpg.Connection, now: datetime, limit: int) -> list[str]:
    """Episodes with an event held for its cause past its deadline (at most `limit`)."""
    rows = await conn.fetch(
        "SELECT DISTINCT subject FROM received_events WHERE fanned_out_at IS NULL AND held_for = 'cause'"
        " AND hold_until <= $1 LIMIT $2",
        now,
        limit,
    )
    return [r["subject"] for r in rows]
