"""The inbox: which events a consumer has handled, claimed in the transaction of the handler's effects."""

from __future__ import annotations

import uuid

import asyncpg


async def claim(conn: asyncpg.Connection, consumer: str, event_id: uuid.UUID) -> bool:
    """True when this is the first time `consumer` handles `event_id` (in this transaction)."""
    status = await conn.execute(
        "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", consumer, event_id
    )
    return status == "INSERT 0 1"


async def has_handled(conn: asyncpg.Connection, consumer: str, event_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2)", consumer, event_id
        )
    )
