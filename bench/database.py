"""Where a benchmark's data lives: a schema of its own on DATABASE_URL (dropped afterwards), or else an embedded
PostgreSQL the benchmark starts and stops."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg

from shared.db import open_service_database
from shared.store.migrate import event_store_migrations, migrations_in


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


@asynccontextmanager
async def service_schema(database_url: str, service: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a new schema holding `service`'s tables (its event store and its own), dropped afterwards."""
    schema = f"bench_{service}_{uuid.uuid4().hex[:8]}"
    migrations = event_store_migrations() + migrations_in(f"services.{service}")
    pool = await open_service_database(database_url, schema, migrations, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()
        await drop_schema(database_url, schema)
