"""What every service's store hands out: connections and transactions from the service's pool, so routes and
handlers never reach into the pool themselves. A service's store subclasses `PoolStore` and adds its own
statements' modules and parts (its event store, say)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Concatenate, ParamSpec, TypeVar

import asyncpg

P = ParamSpec("P")
T = TypeVar("T")


class PoolStore:
    """A service's database: its connections and transactions."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection inside a transaction that commits when the block ends without an exception."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection outside any transaction: each statement commits on its own (reads)."""
        async with self.pool.acquire() as conn:
            yield conn

    async def run(
        self, statement: Callable[Concatenate[asyncpg.Connection, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """One store function on a connection of its own (it commits on its own)."""
        async with self.pool.acquire() as conn:
            return await statement(conn, *args, **kwargs)
