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
`NotificationsStore` hands out connections and transactions (`shared.store.pool_store.PoolStore`), so routes,
handlers and the delivery loop never reach into the pool themselves.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from services.notifications.store import lanes
from shared.store.pool_store import PoolStore


class NotificationsStore(PoolStore):
    """Notifications' database: its connections and transactions (`PoolStore`), and the delivery loop's
    owner session."""

    def owner_session(self, owner: str) -> AbstractAsyncContextManager[Any]:
        """While the block runs, `owner`'s lane leases count as taken (`lanes.owner_session`)."""
        return lanes.owner_session(self.pool, owner)
