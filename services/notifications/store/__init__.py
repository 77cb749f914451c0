"""Notifications' store: every SQL statement of the service, named after what it does, one module per table
family.

- `episodes`: the per-episode advisory lock the consumer and the hold sweep take turns by, and each
  episode's parties (from its referral).
- `received`: notifications' own copy of the events it consumed, and the held ones among them.
- `subscriptions`: who wants which events delivered where; the candidates for fanning events out.
- `deliveries`: queueing deliveries; a subscription's deliveries, catch-up pages, replay and re-drive.
- `lanes`: a subscriber's lane for the delivery loop: the lease and its owner's lock, the next deliveries,
  numbering them, recording attempts.
- `escalations`: escalations for a verwijzer's subscriber, open until acknowledged.

Statements take a connection, so what one command or event batch writes commits together;
`NotificationsStore` hands out connections and transactions, so routes, handlers and the delivery loop never
reach into the pool themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import asyncpg

from services.notifications.store import lanes

P = ParamSpec("P")
T = TypeVar("T")


class NotificationsStore:
    """Notifications' database: its connections and transactions."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection inside a transaction that commits when the block ends without an exception."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection outside any transaction: each statement commits on its own."""
        async with self.pool.acquire() as conn:
            yield conn

    async def run(
        self, statement: Callable[Concatenate[asyncpg.Connection, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """One store function on a connection of its own (it commits on its own)."""
        async with self.pool.acquire() as conn:
            return await statement(conn, *args, **kwargs)

    def owner_session(self, owner: str) -> AbstractAsyncContextManager[Any]:
        """While the block runs, `owner`'s lane leases count as taken (`lanes.owner_session`)."""
        return lanes.owner_session(self.pool, owner)
