"""Held events: walking an episode's held events to release what may go, and the sweep of overdue causes.

Runs inside the consumer's transaction (with its inbox row) or the sweeper's, holding the episode's lock.
"""

from __future__ import annotations

import uuid
from collections import deque
from datetime import datetime

import asyncpg

from services.notifications.domain.holding import hold_reason
from services.notifications.episodes import lock_episodes, parties_of
from services.notifications.fanout import fan_out
from services.notifications.received import KEPT_COLUMNS, KeptEvent
from shared.logging import get_logger

log = get_logger(__name__)


async def settle_episode(conn: asyncpg.Connection, episode_id: str, now: datetime) -> None:
    """Walk the episode's held events in arrival order, fanning out each that may go now.

    Fanning one out can unblock events of other episodes that wait for it as their cause; those episodes
    are walked next (each under its own lock).
    """
    todo: deque[str] = deque([episode_id])
    walked_locks = {episode_id}
    while todo:
        subject = todo.popleft()
        if subject not in walked_locks:
            await lock_episodes(conn, [subject])
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
            await fan_out(conn, [(held, parties)], now)
            await conn.execute(
                "UPDATE received_events SET fanned_out_at = $2, held_for = NULL WHERE event_id = $1", held.event_id, now
            )
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


async def _held_of(conn: asyncpg.Connection, episode_id: str) -> list[KeptEvent]:
    rows = await conn.fetch(
        f"SELECT {KEPT_COLUMNS} FROM received_events WHERE subject = $1 AND fanned_out_at IS NULL ORDER BY position",
        episode_id,
    )
    return [KeptEvent(**dict(r)) for r in rows]


async def _cause_pending(conn: asyncpg.Connection, causation_id: uuid.UUID | None) -> bool:
    """True when the cause has not been fanned out here yet (not seen at all, or itself held)."""
    if causation_id is None:
        return False
    fanned = await conn.fetchval(
        "SELECT fanned_out_at IS NOT NULL FROM received_events WHERE event_id = $1", causation_id
    )
    return not fanned


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
                await lock_episodes(conn, [row["subject"]])
                await settle_episode(conn, row["subject"], now)
        if rows:
            log.warning("notifications.cause_hold_expired", episodes=len(rows))
    return len(rows)
