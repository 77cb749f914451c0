"""Taking a batch's rows of a read model with one row per episode (`episode_id` key, `facts` JSONB)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import asyncpg


async def lock_episode_rows(
    conn: asyncpg.Connection, table: str, columns: str, episode_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record | None]:
    """Each episode's row (`columns` of `table`) locked for this transaction; None for an episode the table
    did not hold, whose row is created now with empty facts.

    The usual case, every row there, is one statement. Creating the missing rows gives a transaction
    handling the same new episode at the same time a row to wait for, instead of both folding from nothing
    and one overwriting the other; a row someone else created first is read once they committed.

    Rows are locked in episode order (those there first, then those created), so transactions seldom wait
    for each other in turn; when they do, Postgres aborts one and the consumer handles that batch again
    one event at a time.
    """
    lock = (
        f"SELECT episode_id, {columns} FROM {table} WHERE episode_id = ANY($1::uuid[]) ORDER BY episode_id FOR UPDATE"
    )
    rows: dict[uuid.UUID, asyncpg.Record | None] = {
        row["episode_id"]: row for row in await conn.fetch(lock, list(episode_ids))
    }
    missing = [i for i in episode_ids if i not in rows]
    if not missing:
        return rows
    created = await conn.fetch(
        f"INSERT INTO {table} (episode_id, facts) SELECT id, '{{}}'::jsonb FROM unnest($1::uuid[]) AS id"
        " ORDER BY id ON CONFLICT DO NOTHING RETURNING episode_id",
        missing,
    )
    rows.update((row[0], None) for row in created)
    raced = [i for i in missing if i not in rows]
    if raced:
        rows.update((row["episode_id"], row) for row in await conn.fetch(lock, raced))
    return rows
