"""Intake's store: every SQL statement of the service, named after what it does, one module per table family —
`patients` (patients, their episodes and data keys), `episodes` (the one-round-trip statements of a referral and
of an episode command), `idempotency` (stored answers), `register` (practices, verwijzers, therapists). The event
store and the access log are `shared/`'s. `IntakeStore` is how handlers get a connection or a unit of work: no
route or handler acquires one from the pool itself."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

from shared.clock import Clock
from shared.store.event_store import EventStore
from shared.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class IntakeStore:
    """Runs intake's statements: on one connection from the pool, with or without a transaction."""

    pool: asyncpg.Pool
    events: EventStore | None = None  # None for statements alone (e.g. a command-line query), no unit of work
    clock: Clock | None = None

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """One connection for statements that each commit on their own (or for a transaction and what follows it)."""
        async with self.pool.acquire() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def unit_of_work(
        self, correlation_id: uuid.UUID | None = None, *, transaction: bool = True
    ) -> AsyncIterator[UnitOfWork]:
        """A unit of work on one connection, in one transaction unless `transaction` is False (for a command whose
        statements each commit on their own)."""
        async with self.pool.acquire() as conn:
            if not transaction:
                yield self.on(conn, correlation_id)
                return
            async with conn.transaction():
                yield self.on(conn, correlation_id)

    def on(self, conn: asyncpg.Connection, correlation_id: uuid.UUID | None = None) -> UnitOfWork:
        """A unit of work on `conn`, whose transaction the caller holds."""
        assert self.events is not None and self.clock is not None, "a unit of work needs the event store and clock"
        return UnitOfWork(conn, self.events, self.clock, correlation_id=correlation_id)
