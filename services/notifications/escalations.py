"""The escalations table: EscalatedToReferrer events for a verwijzer's subscriber, open until acknowledged."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

_COLUMNS = "event_id, episode_id, raised_at, details::text AS details, acknowledged_at, acknowledged_by"


async def open_for(conn: asyncpg.Connection, subscriber: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM escalations WHERE subscriber = $1 AND acknowledged_at IS NULL"
        " ORDER BY raised_at, event_id",
        subscriber,
    )


async def acknowledge(
    conn: asyncpg.Connection, subscriber: str, event_id: uuid.UUID, user: str, now: datetime
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE escalations SET acknowledged_at = coalesce(acknowledged_at, $3),"
        " acknowledged_by = coalesce(acknowledged_by, $4) WHERE subscriber = $1 AND event_id = $2"
        f" RETURNING {_COLUMNS}",
        subscriber,
        event_id,
        now,
        user,
    )
