"""Where a benchmark's data lives: a schema of its own on DATABASE_URL (dropped afterwards), or else an embedded
PostgreSQL the benchmark starts and stops."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import asyncpg


def run_on_database(run: Callable[[str], Awaitable[None]]) -> None:
    """Run `run(database_url)` on DATABASE_URL when set, else on an embedded PostgreSQL started for it."""
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        asyncio.run(run(database_url))
        return
    from deploy.local import EmbeddedPostgres

    postgres = EmbeddedPostgres()
    try:
        asyncio.run(run(postgres.start()))
    finally:
        postgres.stop()


async def drop_schema(database_url: str, schema: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
