"""Reporting's store: every SQL statement of the service, named after what it does.

- `overview`: the episode overview read model (one merge per batch, an episode's row, its parties).
- `letters`: each episode's letter facts and the letters, with their `ReportComposed` and `ReportSent` events.
- `network`: the minimised copy of consumed events, the network read model per episode, and its rebuild.
- `episode_rows`: taking a batch's rows of a read model with one row per episode, locked.

Reporting's own events go through the shared event store (`shared.store.event_store`). Statements take a
connection, so a command's writes commit together; `ReportingStore` hands out connections and transactions
(`shared.store.pool_store.PoolStore`), so routes and handlers never reach into the pool themselves.
"""

from __future__ import annotations

import asyncpg

from shared.store.event_store import EventStore
from shared.store.pool_store import PoolStore


class ReportingStore(PoolStore):
    """Reporting's database: its connections and transactions (`PoolStore`), and its event stream store (not
    needed to rebuild a read model)."""

    def __init__(self, pool: asyncpg.Pool, events: EventStore | None = None) -> None:
        super().__init__(pool)
        self.events = events

    def event_store(self) -> EventStore:
        """The event store, for a command that appends reporting's events."""
        if self.events is None:
            raise RuntimeError("this ReportingStore has no event store: it was made to rebuild a read model")
        return self.events
