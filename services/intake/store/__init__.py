"""Intake's store: every SQL statement of the service, named after what it does, one module per table family —
`patients` (patients, their episodes and data keys), `episodes` (the one-round-trip statements of a referral and
of an episode command), `idempotency` (stored answers), `register` (practices, verwijzers, therapists). The event
store and the access log are `shared/`'s. `IntakeStore` (a `shared.store.pool_store.PoolStore`) is how
handlers get a connection or a unit of work: no route or handler acquires one from the pool itself."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg

from shared.clock import Clock
from shared.store.event_store import EventStore
from shared.store.pool_store import PoolStore
from shared.store.unit_of_work import UnitOfWork


class IntakeStore(PoolStore):
    """Intake's database: its connections and transactions (`PoolStore`), and units of work on them, which
    need the event store and the clock (a command-line query needs neither)."""

    def __init__(self, pool: asyncpg.Pool, events: EventStore | None = None, clock: Clock | None = None) -> None:
        super().__init__(pool)
        self.events = events
        self.clock = clock

    @contextlib.asynccontextmanager
    async def unit_of_work(
        self, correlation_id: uuid.UUID | None = None, *, transaction: bool = True
    ) -> AsyncIterator[UnitOfWork]:
        """A unit of work on one connection, in one transaction unless `transaction` is False (for a command whose
        statements each commit on their own)."""
        if not transaction:
            async with self.connection() as conn:
                yield self.on(conn, correlation_id)
            return
        async with self.transaction() as conn:
            yield self.on(conn, correlation_id)

    def on(self, conn: asyncpg.Connection, correlation_id: uuid.UUID | None = None) -> UnitOfWork:
        """A unit of work on `conn`, whose transaction the caller holds."""
        if self.events is None or self.clock is None:
            raise RuntimeError("this IntakeStore has no event store and clock: it was made for statements alone")
        return UnitOfWork(conn, self.events, self.clock, correlation_id=correlation_id)
