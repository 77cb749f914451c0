"""The escalations table: EscalatedToReferrer events for a verwijzer's subscriber, open until acknowledged."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.notifications.domain.fanout import Escalation

_ESCALATIONS = """
INSERT INTO escalations (subscriber, event_id, episode_id, details, raised_at)
SELECT x.subscriber, x.event_id, e.subject, convert_from(e.body, 'UTF8')::jsonb -> 'data', e.occurred_at
FROM unnest($1::text[], $2::uuid[]) AS x(subscriber, event_id) JOIN received_events e USING (event_id)
ON CONFLICT DO NOTHING
"""

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


async def add(conn: asyncpg.Connection, escalations: Sequence[Escalation]) -> None:
    """Raise the escalations, with the details of the events they come from (one raised already stays)."""
    if escalations:
        await conn.execute(_ESCALATIONS, [e.subscriber for e in escalations], [e.event_id for e in escalations])
