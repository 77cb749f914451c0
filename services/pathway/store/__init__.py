"""The pathway's store: every SQL statement of the service, named after what it does.

- `episodes`: who may see each episode, the pathway's copy of intake's events, the episode view and the
  open escalations read from it.
- `timers`: the durable evaluation timers: writing what the evaluation plans decided
  (`domain.evaluation_plan`), and what the scheduler claims and fires.

The pathway's own events go through the shared event store (`shared.store.event_store`). Statements take a
connection, so a command's writes commit together; `PathwayStore` hands out connections and transactions, so
routes and handlers never reach into the pool themselves.
"""

from __future__ import annotations

import asyncpg

from shared.store.event_store import EventStore
from shared.store.pool_store import PoolStore


class PathwayStore(PoolStore):
    """The pathway's database: its connections and transactions (`PoolStore`), and its event stream store."""

    def __init__(self, pool: asyncpg.Pool, events: EventStore) -> None:
        super().__init__(pool)
        self.events = events
