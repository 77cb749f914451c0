"""Reporting's store: every SQL statement of the service, named after what it does.

- `overview`: the episode overview read model (one merge per batch, an episode's row, its parties).
- `letters`: each episode's letter facts and the letters, with their `ReportComposed` and `ReportSent` events.
- `network`: the minimised copy of consumed events, the network read model per episode, and its rebuild.
- `episode_rows`: taking a batch's rows of a read model with one row per episode, locked.

Reporting's own events go through the shared event store (`shared.store.event_store`). Statements take a
connection, so a command's writes commit together; `ReportingStore` hands out connections and transactions, so
routes and handlers never reach into the pool themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared.store.event_store import EventStore


class ReportingStore:
    """Reporting's database: its connections and transactions, and its event stream store (not needed to
    rebuild a read model)."""

    def __init__(self, pool: asyncpg.Pool, events: EventStore | None = None) -> None:
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
