"""The pathway's durable timers table, written from the evaluation plan's decisions
(`domain.evaluation_schedule`): what recording an evaluation, starting treatment or closing an episode does
to it, and what the scheduler claims and fires. Decisions are taken by the handlers; the statements here
only load and write.

Every function takes a connection inside the caller's transaction, so a timer change commits with the
events and inbox row of the same command; nothing here commits on its own.

Per-episode changes take a transaction-scoped advisory lock on the episode: the scheduler firing a timer
(`try_lock_episode`, never waiting) and `cancel_open_timers` / `handlers.evaluation_recorded`
(`lock_episode`, waiting) take turns, so closing an episode cannot miss an overdue timer that a firing
inserts at the same moment. The scheduler only ever tries the lock, so the two sides cannot deadlock on each other.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.pathway.domain.evaluation_schedule import (
    EVALUATION_DUE,
    EVALUATION_OVERDUE,
    timer_id_for,
)

_COLUMNS = "timer_id, episode_id, kind, sequence, due_at, fired_at"


@dataclass(frozen=True)
class Timer:
    timer_id: uuid.UUID
    episode_id: str
    kind: str
    sequence: int
    due_at: datetime
    fired_at: datetime | None


async def schedule(
    conn: asyncpg.Connection, episode_id: str, kind: str, sequence: int, due_at: datetime
) -> tuple[uuid.UUID, bool]:
    """Insert the timer; returns its id and whether it was new. A closed episode gets no new timers."""
    timer_id = timer_id_for(episode_id, kind, sequence)
    return timer_id, timer_id in await schedule_many(conn, [(episode_id, kind, sequence, due_at)])


async def schedule_many(conn: asyncpg.Connection, wanted: list[tuple[str, str, int, datetime]]) -> set[uuid.UUID]:
    """`schedule` for many timers (episode id, kind, sequence, due at) in one statement; returns the ids of
    those that were new. A closed episode gets no new timers."""
    if not wanted:
        return set()
    rows = await conn.fetch(
        "INSERT INTO timers (timer_id, episode_id, kind, sequence, due_at)"
        " SELECT t.timer_id, t.episode_id, t.kind, t.sequence, t.due_at"
        " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[])"
        " AS t(timer_id, episode_id, kind, sequence, due_at)"
        " WHERE NOT EXISTS (SELECT 1 FROM timer_episodes_closed c WHERE c.episode_id = t.episode_id)"
        " ORDER BY t.timer_id ON CONFLICT DO NOTHING RETURNING timer_id",
        [timer_id_for(episode_id, kind, sequence) for episode_id, kind, sequence, _ in wanted],
        [episode_id for episode_id, _, _, _ in wanted],
        [kind for _, kind, _, _ in wanted],
        [sequence for _, _, sequence, _ in wanted],
        [due_at for _, _, _, due_at in wanted],
    )
    return {row["timer_id"] for row in rows}


async def for_episode(conn: asyncpg.Connection, episode_id: str) -> list[Timer]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM timers WHERE episode_id = $1 AND cancelled_at IS NULL ORDER BY due_at, kind",
        episode_id,
    )
    return [Timer(**dict(r)) for r in rows]


async def find(conn: asyncpg.Connection, episode_id: str, kind: str, sequence: int) -> Timer | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM timers WHERE episode_id = $1 AND kind = $2 AND sequence = $3",
        episode_id,
        kind,
        sequence,
    )
    return Timer(**dict(row)) if row else None


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[Timer]:
    """Lock up to `limit` due, open timers, oldest first; rows another transaction holds are passed over."""
    _require_transaction(conn)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM timers"
        " WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1"
        " ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [Timer(**dict(r)) for r in rows]


async def mark_fired(conn: asyncpg.Connection, timer_id: uuid.UUID, at: datetime) -> None:
    await conn.execute("UPDATE timers SET fired_at = $2 WHERE timer_id = $1", timer_id, at)


async def mark_spent(conn: asyncpg.Connection, timer_id: uuid.UUID, at: datetime) -> None:
    """A timer whose reason went away before it fired: it will not fire, and was not fired."""
    await conn.execute("UPDATE timers SET cancelled_at = $2 WHERE timer_id = $1", timer_id, at)


async def oldest_unfired_due(conn: asyncpg.Connection) -> datetime | None:
    return await conn.fetchval("SELECT min(due_at) FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL")


async def is_closed(conn: asyncpg.Connection, episode_id: str) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM timer_episodes_closed WHERE episode_id = $1)", episode_id)
    )


async def is_recorded(conn: asyncpg.Connection, episode_id: str, evaluation_number: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM evaluations_recorded WHERE episode_id = $1 AND evaluation_number = $2)",
            episode_id,
            evaluation_number,
        )
    )


async def lock_episode(conn: asyncpg.Connection, episode_id: str) -> None:
    _require_transaction(conn)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _episode_lock_key(episode_id))


async def try_lock_episode(conn: asyncpg.Connection, episode_id: str) -> bool:
    _require_transaction(conn)
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _episode_lock_key(episode_id)))


async def cancel_open_timers(conn: asyncpg.Connection, episode_id: str, at: datetime) -> int:
    """A closed episode leaves no timers: cancel what is open and refuse new ones; returns how many."""
    await lock_episode(conn, episode_id)
    await conn.execute(
        "INSERT INTO timer_episodes_closed (episode_id, closed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        episode_id,
        at,
    )
    status = await conn.execute(
        "UPDATE timers SET cancelled_at = $2 WHERE episode_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
        episode_id,
        at,
    )
    return int(status.rsplit(" ", 1)[1])


async def record_evaluation(
    conn: asyncpg.Connection, episode_id: str, evaluation_number: int, at: datetime
) -> datetime:
    """Evaluation n was done at `at`: keep when it was first recorded (returned); recorded for the first time,
    its open timers stop (recorded before it fell due, the due timer goes too: nobody needs telling to do what
    was done). Needs the episode's lock (`lock_episode`)."""
    recorded_at = await conn.fetchval(
        "INSERT INTO evaluations_recorded (episode_id, evaluation_number, recorded_at) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING recorded_at",
        episode_id,
        evaluation_number,
        at,
    )
    if recorded_at is not None:
        await conn.execute(
            "UPDATE timers SET cancelled_at = $3"
            " WHERE episode_id = $1 AND sequence = $2 AND kind = ANY($4::text[])"
            " AND fired_at IS NULL AND cancelled_at IS NULL",
            episode_id,
            evaluation_number,
            at,
            [EVALUATION_DUE, EVALUATION_OVERDUE],
        )
        return recorded_at
    return await conn.fetchval(
        "SELECT recorded_at FROM evaluations_recorded WHERE episode_id = $1 AND evaluation_number = $2",
        episode_id,
        evaluation_number,
    )


def _episode_lock_key(episode_id: str) -> int:
    digest = hashlib.sha256(f"pathway.timers:{episode_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _require_transaction(conn: asyncpg.Connection) -> None:
    # Outside a transaction the row and advisory locks would end with the statement and protect nothing.
    if not conn.is_in_transaction():
        raise RuntimeError("timers: this needs the caller's transaction")


async def move_first_evaluation(conn: asyncpg.Connection, episode_id: str, due_at: datetime) -> Timer | None:
    """Treatment started: the first evaluation falls due at `due_at` (`MoveFirstEvaluation`) rather than after
    the referral. Returns the moved timer, or None when it already fired, was cancelled, or is already there."""
    await lock_episode(conn, episode_id)
    row = await conn.fetchrow(
        f"UPDATE timers SET due_at = $3 WHERE episode_id = $1 AND kind = $2 AND sequence = 1"
        f" AND fired_at IS NULL AND cancelled_at IS NULL AND due_at <> $3 RETURNING {_COLUMNS}",
        episode_id,
        EVALUATION_DUE,
        due_at,
    )
    return Timer(**dict(row)) if row else None
