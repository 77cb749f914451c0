"""The pathway's durable timers table, written from the evaluation plan's decisions
(`domain.evaluation_plan.TimerWrite`: a new timer, the first evaluation moved, an evaluation's timers or an
episode's stopped), and what the scheduler claims and fires. Every decision is taken in the domain from the
episode's events; the statements here only write and load.

Every function takes a connection inside the caller's transaction, so a timer change commits with the
events and inbox row of the same command; nothing here commits on its own.

Per-episode changes take a transaction-scoped advisory lock on the episode: the scheduler firing a timer
(`try_lock_episode`, never waiting) and the writes that stop or move timers (`lock_episode`, waiting) take
turns, so closing an episode cannot miss an overdue timer that a firing
inserts at the same moment. The scheduler only ever tries the lock, so the two sides cannot deadlock on each other.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.pathway.domain.evaluation_plan import (
    MoveFirstTimer,
    ScheduleTimer,
    StopAllTimers,
    StopEvaluationTimers,
    TimerWrite,
)
from services.pathway.domain.evaluation_schedule import EVALUATION_DUE, EVALUATION_OVERDUE, timer_id_for
from shared.consumer import parking

_COLUMNS = "timer_id, episode_id, kind, sequence, due_at, fired_at"


@dataclass(frozen=True)
class Timer:
    timer_id: uuid.UUID
    episode_id: str
    kind: str
    sequence: int
    due_at: datetime
    fired_at: datetime | None


async def write_plans(conn: asyncpg.Connection, writes: Sequence[tuple[str, TimerWrite]]) -> None:
    """Write what the plans decided (episode id, write), in order; new timers that follow each other go in one
    statement (a batch of referrals plans its first evaluations in one)."""
    run: list[tuple[str, ScheduleTimer]] = []
    for episode_id, write in writes:
        if isinstance(write, ScheduleTimer):
            run.append((episode_id, write))
            continue
        await _schedule(conn, run)
        run = []
        match write:
            case MoveFirstTimer():
                await _move_first(conn, episode_id, write.due_at)
            case StopEvaluationTimers():
                await _stop_evaluation(conn, episode_id, write.number, write.at)
            case StopAllTimers():
                await _stop_all(conn, episode_id, write.at)
    await _schedule(conn, run)


async def _schedule(conn: asyncpg.Connection, wanted: Sequence[tuple[str, ScheduleTimer]]) -> None:
    """New timers, in one statement; one that exists already (the same deterministic id) stays as it is."""
    if not wanted:
        return
    await conn.execute(
        "INSERT INTO timers (timer_id, episode_id, kind, sequence, due_at)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[])"
        " ORDER BY 1 ON CONFLICT DO NOTHING",
        [timer_id_for(episode_id, w.kind, w.number) for episode_id, w in wanted],
        [episode_id for episode_id, _ in wanted],
        [w.kind for _, w in wanted],
        [w.number for _, w in wanted],
        [w.due_at for _, w in wanted],
    )


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


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int, consumer: str) -> list[Timer]:
    """Lock up to `limit` due, open timers, oldest first; rows another transaction holds are passed over, and so
    are the timers of an episode that waits for a stuck event of `consumer` (an open dead letter or a parked
    event: `shared.consumer.parking`)."""
    _require_transaction(conn)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM timers t"
        " WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1"
        f" AND NOT {parking.episode_waits('$3', 't.episode_id')}"
        " ORDER BY due_at LIMIT $2 FOR UPDATE OF t SKIP LOCKED",
        now,
        limit,
        consumer,
    )
    return [Timer(**dict(r)) for r in rows]


async def mark_fired(conn: asyncpg.Connection, timer_id: uuid.UUID, at: datetime) -> None:
    await conn.execute("UPDATE timers SET fired_at = $2 WHERE timer_id = $1", timer_id, at)


async def mark_spent(conn: asyncpg.Connection, timer_id: uuid.UUID, at: datetime) -> None:
    """A timer whose reason went away before it fired: it will not fire, and was not fired."""
    await conn.execute("UPDATE timers SET cancelled_at = $2 WHERE timer_id = $1", timer_id, at)


async def oldest_unfired_due(conn: asyncpg.Connection) -> datetime | None:
    return await conn.fetchval("SELECT min(due_at) FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL")


async def waiting_by_kind(conn: asyncpg.Connection, now: datetime) -> dict[str, tuple[int, int]]:
    """Per kind, the timers not fired nor stopped: (due at `now` — the scheduler has yet to fire them — and
    planned for later)."""
    rows = await conn.fetch(
        "SELECT kind, count(*) FILTER (WHERE due_at <= $1) AS due, count(*) FILTER (WHERE due_at > $1) AS later"
        " FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL GROUP BY kind",
        now,
    )
    return {r["kind"]: (r["due"], r["later"]) for r in rows}


async def lock_episode(conn: asyncpg.Connection, episode_id: str) -> None:
    _require_transaction(conn)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _episode_lock_key(episode_id))


async def try_lock_episode(conn: asyncpg.Connection, episode_id: str) -> bool:
    _require_transaction(conn)
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _episode_lock_key(episode_id)))


async def _stop_all(conn: asyncpg.Connection, episode_id: str, at: datetime) -> None:
    """The episode closed: every timer of it that has not fired stops."""
    await lock_episode(conn, episode_id)
    await conn.execute(
        "UPDATE timers SET cancelled_at = $2 WHERE episode_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
        episode_id,
        at,
    )


async def _stop_evaluation(conn: asyncpg.Connection, episode_id: str, evaluation_number: int, at: datetime) -> None:
    """Evaluation n was recorded: its timers that have not fired stop (recorded before it fell due, the due timer
    goes too: nobody needs telling to do what was done)."""
    await lock_episode(conn, episode_id)
    await conn.execute(
        "UPDATE timers SET cancelled_at = $3"
        " WHERE episode_id = $1 AND sequence = $2 AND kind = ANY($4::text[])"
        " AND fired_at IS NULL AND cancelled_at IS NULL",
        episode_id,
        evaluation_number,
        at,
        [EVALUATION_DUE, EVALUATION_OVERDUE],
    )


def _episode_lock_key(episode_id: str) -> int:
    digest = hashlib.sha256(f"pathway.timers:{episode_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _require_transaction(conn: asyncpg.Connection) -> None:
    # Outside a transaction the row and advisory locks would end with the statement and protect nothing.
    if not conn.is_in_transaction():
        raise RuntimeError("timers: this needs the caller's transaction")


async def _move_first(conn: asyncpg.Connection, episode_id: str, due_at: datetime) -> None:
    """Treatment started: the first evaluation's timer, not fired yet, falls due at `due_at`."""
    await lock_episode(conn, episode_id)
    await conn.execute(
        "UPDATE timers SET due_at = $3 WHERE episode_id = $1 AND kind = $2 AND sequence = 1"
        " AND fired_at IS NULL AND cancelled_at IS NULL",
        episode_id,
        EVALUATION_DUE,
        due_at,
    )
