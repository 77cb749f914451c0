"""The pathway's store: every SQL statement of the service, named after what it does.

- `episodes`: who may see each episode, the pathway's copy of intake's events, the episode view and the
  open escalations read from it.
- `timers`: the durable evaluation timers and what recording an evaluation or closing an episode does to
  them.

The pathway's own events go through the shared event store (`shared.store.event_store`). Statements take a
connection, so a command's writes commit together; `PathwayStore` hands out connections and transactions, so
routes and handlers never reach into the pool themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared.store.event_store import EventStore


class PathwayStore:
    """The pathway's database: its connections and transactions, and its event stream store."""

    def __init__(self, pool: asyncpg.Pool, events: EventStore) -> None:
        self.pool = pool
        self.events = events

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
