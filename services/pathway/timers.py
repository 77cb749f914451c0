"""The pathway's durable timers table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

TIMER_NAMESPACE = uuid.UUID("0c8f3b0e-2a4d-5b7f-8e61-7d9a4c2b1f30")


def timer_id_for(episode_id: str, kind: str, sequence: int) -> uuid.UUID:
    """Deterministic, so scheduling the same evaluation twice yields the same timer."""
    return uuid.uuid5(TIMER_NAMESPACE, f"{episode_id}:{kind}:{sequence}")


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
    """Insert the timer; returns its id and whether it was new."""
    timer_id = timer_id_for(episode_id, kind, sequence)
    status = await conn.execute(
        "INSERT INTO timers (timer_id, episode_id, kind, sequence, due_at) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT DO NOTHING",
        timer_id,
        episode_id,
        kind,
        sequence,
        due_at,
    )
    return timer_id, status == "INSERT 0 1"


async def for_episode(conn: asyncpg.Connection, episode_id: str) -> list[Timer]:
    rows = await conn.fetch(
        "SELECT timer_id, episode_id, kind, sequence, due_at, fired_at FROM timers"
        " WHERE episode_id = $1 AND cancelled_at IS NULL ORDER BY due_at",
        episode_id,
    )
    return [Timer(**dict(r)) for r in rows]
