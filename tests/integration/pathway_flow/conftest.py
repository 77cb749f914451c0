"""The pathway's tables in a schema of their own, per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.store.migrate import migrate, migrations_in


@pytest.fixture
async def pool(store_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh schema holding the event store and the pathway's own tables."""
    async with store_pool.acquire() as conn:
        await migrate(conn, await conn.fetchval("SELECT current_schema()"), migrations_in("services.pathway"))
    yield store_pool
