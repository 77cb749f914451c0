"""PostgreSQL connection pools bound to one service's schema."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import asyncpg

from shared.store.migrate import Migration, migrate

# What "the database is not there right now" looks like: wait and try again on fresh connections, answer 503,
# never dead-letter an event for it. Found under a PostgreSQL restart mid-load (issue 23): besides refused
# sockets (OSError) and ended connections, a server that shuts down answers 57P01 (AdminShutdown, an
# OperatorInterventionError) to the statements in flight, and asyncpg raises InternalClientError ("cannot
# switch to state 12; another operation is in progress", no PostgresError) when releasing a connection the
# server ended in the middle of a transaction. A standby promoted late refuses writes (25006).
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, a Unix socket gone, and TimeoutError (a command or an acquire that timed out)
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)


def database_unavailable(error: BaseException) -> bool:
    return isinstance(error, DATABASE_UNAVAILABLE)


_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    if not _SCHEMA.match(schema):
        raise ValueError(f"schema: {schema!r} is not a plain lower-case identifier")
    return schema


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg ships no types: Connection is Any
    """A pooled connection released without asyncpg's reset query (RESET ALL, UNLISTEN, CLOSE ALL, advisory
    unlock): one round trip per command saved. Services keep no session state on pooled connections — only
    transaction-scoped locks, no LISTEN, no SET, cursors inside transactions — and asyncpg still ends an open
    transaction on release."""

    def get_reset_query(self) -> str:
        return ""


# No statement of a service waits longer than this: a connection whose server went away without closing it
# (a failover behind a TCP connection, a half-dead socket) raises TimeoutError instead of holding its task
# forever, and the supervisor starts the loop again on fresh connections.
COMMAND_TIMEOUT_SECONDS = 60.0


async def create_pool(
    database_url: str,
    schema: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    command_timeout: float = COMMAND_TIMEOUT_SECONDS,
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        server_settings=_in_schema(schema),
        connection_class=PooledConnection,
    )
    assert pool is not None
    return pool


def _in_schema(schema: str) -> dict[str, str]:
    """A connection's settings for working in one service's schema."""
    return {"search_path": check_schema_name(schema), "application_name": f"ruggengraat-{schema}"}


@dataclass(frozen=True)
class DatabaseAddress:
    """Where a service's schema lives: what a process beside the service needs to open a connection of its own
    there, as the service's pool would (a worker of a process pool reading what it works on)."""

    url: str = field(repr=False)  # it may hold a password: never in a log line
    schema: str

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.url, command_timeout=COMMAND_TIMEOUT_SECONDS, server_settings=_in_schema(self.schema)
        )


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
