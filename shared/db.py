"""PostgreSQL connection pools bound to one service's schema."""

from __future__ import annotations

import re

import asyncpg

from shared.store.migrate import Migration, migrate

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    if not _SCHEMA.match(schema):
        raise ValueError(f"schema: {schema!r} is not a plain lower-case identifier")
    return schema


class PooledConnection(asyncpg.Connection):
    """A pooled connection released without asyncpg's reset query (RESET ALL, UNLISTEN, CLOSE ALL, advisory
    unlock): one round trip per command saved. Services keep no session state on pooled connections — only
    transaction-scoped locks, no LISTEN, no SET, cursors inside transactions — and asyncpg still ends an open
    transaction on release."""

    def get_reset_query(self) -> str:
        return ""


async def create_pool(database_url: str, schema: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    check_schema_name(schema)
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": f"ruggengraat-{schema}"},
        connection_class=PooledConnection,
    )
    assert pool is not None
    return pool


async def open_service_database(
    database_url: str, schema: str, migrations: list[Migration], *, max_size: int = 10
) -> asyncpg.Pool:
    """Apply the service's migrations, then return a pool whose connections live in its schema."""
    check_schema_name(schema)
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn, schema, migrations)
    finally:
        await conn.close()
    return await create_pool(database_url, schema, max_size=max_size)
