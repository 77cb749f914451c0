"""The inbox: which events a consumer has handled, claimed in the transaction of the handler's effects."""

from __future__ import annotations

import uuid

import asyncpg


async def claim_all(conn: asyncpg.Connection, consumer: str, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among `event_ids` that `consumer` handles for the first time (claimed in this transaction)."""
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING"
        " RETURNING event_id",
        consumer,
        event_ids,
    )
    return {row[0] for row in rows}


async def has_handled(conn: asyncpg.Connection, consumer: str, event_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2)", consumer, event_id
        )
    )
