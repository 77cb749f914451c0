"""An episode waits for its stuck event. Care events of one episode depend on their order (an evaluation without
its assessment is wrong), so while an event of an episode is an open dead letter of a consumer, that consumer's
later events of the episode are parked, in arrival order, and the episode's other work waits (the pathway's
timers do not fire on a half-known state). When the stuck event is re-driven or discarded, the parked ones
follow in order (`shared.consumer.dead_letter_operations`). Other episodes flow on.

Finding the stuck episodes of a batch rides on the inbox claim (one statement, as before). Parking and
releasing an episode take a lock named after the consumer and the episode, so a release and a new event of
the same episode take turns: the new one waits, finds the episode free, and follows the released ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.consumer.dead_letters import Record


def episode_waits(consumer: str, subject: str, event_id: str | None = None) -> str:
    """SQL that is true while the episode `subject` waits for a stuck event of `consumer` (an open dead letter,
    or parked events); with `event_id`, a letter of that very event does not count (the stuck event itself,
    delivered again, is tried again rather than parked behind itself). The arguments are SQL expressions."""
    own = f" AND d.event_id IS DISTINCT FROM {event_id}" if event_id else ""
    return (
        f"(EXISTS (SELECT 1 FROM dead_letters d WHERE d.consumer = {consumer} AND d.state = 'open'"
        f" AND d.subject = {subject}{own})"
        f" OR EXISTS (SELECT 1 FROM parked_events p WHERE p.consumer = {consumer} AND p.subject = {subject}))"
    )


_STUCK = "b.subject IS DISTINCT FROM $4 AND " + episode_waits("$1", "b.subject", "b.event_id")
_CLAIM_UNLESS_STUCK = f"""
WITH batch AS (SELECT * FROM unnest($2::uuid[], $3::text[]) AS b(event_id, subject)),
stuck AS (SELECT b.event_id FROM batch b WHERE {_STUCK}),
claimed AS (
    INSERT INTO inbox (consumer, event_id)
    SELECT $1, b.event_id FROM batch b WHERE b.event_id NOT IN (SELECT event_id FROM stuck)
    ON CONFLICT DO NOTHING RETURNING event_id)
SELECT event_id, false AS stuck FROM claimed
UNION ALL SELECT event_id, true FROM stuck
"""
_STILL_STUCK = f"""
SELECT b.event_id FROM unnest($2::uuid[], $3::text[]) AS b(event_id, subject) WHERE {_STUCK}
"""


async def claim_unless_stuck(
    conn: asyncpg.Connection,
    consumer: str,
    events: Sequence[tuple[uuid.UUID, str]],
    releasing: str | None = None,
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Claim in the inbox the events (id, episode) that do not wait for a stuck event of their episode; returns
    the ids claimed for the first time, and the ids that wait (not claimed). `releasing`: the episode whose
    stuck and parked events are being handled now, which does not wait."""
    rows = await conn.fetch(_CLAIM_UNLESS_STUCK, consumer, [e for e, _ in events], [s for _, s in events], releasing)
    return {r["event_id"] for r in rows if not r["stuck"]}, {r["event_id"] for r in rows if r["stuck"]}


async def still_stuck(
    conn: asyncpg.Connection, consumer: str, events: Sequence[tuple[uuid.UUID, str]]
) -> set[uuid.UUID]:
    """Of the waiting events (id, episode), those that still wait once their episodes' locks are taken (in this
    transaction, in one order): a release that was under way has finished by then."""
    for subject in sorted({s for _, s in events}):
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(consumer, subject))
    rows = await conn.fetch(_STILL_STUCK, consumer, [e for e, _ in events], [s for _, s in events], None)
    return {r["event_id"] for r in rows}


async def park(conn: asyncpg.Connection, consumer: str, parked: Sequence[tuple[Record, uuid.UUID, str, str]]) -> None:
    """Park the records (record, event id, type, episode), in this order; one parked before stays as it was."""
    await conn.executemany(
        "INSERT INTO parked_events (consumer, subject, event_id, event_type, topic, partition, record_offset,"
        " record_key, record_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        [
            (consumer, subject, event_id, event_type, r.topic, r.partition, r.offset, r.key, r.value or b"")
            for r, event_id, event_type, subject in parked
        ],
    )


@dataclass(frozen=True)
class Parked:
    id: int
    event_id: uuid.UUID
    record: Record


async def parked_of(conn: asyncpg.Connection, consumer: str, subject: str) -> list[Parked]:
    rows = await conn.fetch(
        "SELECT id, event_id, topic, partition, record_offset, record_key, record_value FROM parked_events"
        " WHERE consumer = $1 AND subject = $2 ORDER BY id",
        consumer,
        subject,
    )
    return [
        Parked(
            r["id"],
            r["event_id"],
            Record(r["topic"], r["partition"], r["record_offset"], r["record_key"], r["record_value"]),
        )
        for r in rows
    ]


async def unpark(conn: asyncpg.Connection, parked_id: int) -> None:
    await conn.execute("DELETE FROM parked_events WHERE id = $1", parked_id)


@dataclass(frozen=True)
class ParkedEpisode:
    episode_id: str
    parked: int
    since: datetime
    waiting_for: list[int]  # the open dead letters it waits for


async def parked_episodes(conn: asyncpg.Connection, consumer: str, limit: int) -> list[ParkedEpisode]:
    """Every episode with parked events, the longest waiting first."""
    rows = await conn.fetch(
        "SELECT p.subject, count(*) AS parked, min(p.parked_at) AS since,"
        " coalesce((SELECT array_agg(d.id ORDER BY d.id) FROM dead_letters d"
        "           WHERE d.consumer = $1 AND d.subject = p.subject AND d.state = 'open'), '{}') AS waiting_for"
        " FROM parked_events p WHERE p.consumer = $1 GROUP BY p.subject ORDER BY since LIMIT $2",
        consumer,
        limit,
    )
    return [ParkedEpisode(r["subject"], r["parked"], r["since"], list(r["waiting_for"])) for r in rows]


@contextlib.asynccontextmanager
async def episode_held(pool: asyncpg.Pool, consumer: str, subject: str) -> AsyncIterator[None]:
    """Hold the episode's lock for the block (on a connection of its own): the consumer's events of the
    episode wait until the block has released what was parked."""
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(consumer, subject))
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(consumer, subject))


def _lock_key(consumer: str, subject: str) -> int:
    digest = hashlib.sha256(f"parking:{consumer}:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
