"""The one dependency of the notification routes: who calls (a subscriber or an operator, `access.py`), with the
store, clock and settings the commands and queries need, and the caller's own subscription."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, status

from services.notifications import access
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore, subscriptions
from shared.auth import Caller, allow
from shared.clock import Clock
from shared.service import RuntimeDep


@dataclass(frozen=True)
class Access:
    """What a request works with: the caller, the subscriber by which SQL narrows what it reaches (`owner`),
    the store, the clock and the settings."""

    caller: Caller
    store: NotificationsStore
    clock: Clock
    settings: NotificationsSettings

    @property
    def owner(self) -> str:
        """Whose subscriptions, deliveries and escalations the caller reaches (`access.subscriber_of`)."""
        return access.subscriber_of(self.caller)

    async def own_subscription(self, subscription_id: uuid.UUID) -> subscriptions.Subscription:
        """The caller's subscription; another subscriber's answers 404, like one that does not exist."""
        found = await self.store.run(subscriptions.get_own, subscription_id, self.owner)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"subscription {subscription_id} is not known")
        return found

    async def any_subscription(self, subscription_id: uuid.UUID) -> subscriptions.Subscription:
        """Any subscriber's subscription, for an operator (`access.OPERATORS`); 404 when it does not exist."""
        found = await self.store.run(subscriptions.get, subscription_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"subscription {subscription_id} is not known")
        return found


def _notifications(runtime: RuntimeDep, caller: Caller) -> Access:
    assert isinstance(runtime.settings, NotificationsSettings)
    return Access(caller, NotificationsStore(runtime.pool), runtime.clock, runtime.settings)


async def _subscriber(runtime: RuntimeDep, caller: Annotated[Caller, allow(*access.SUBSCRIBERS)]) -> Access:
    return _notifications(runtime, caller)


async def _operator(runtime: RuntimeDep, caller: Annotated[Caller, allow(*access.OPERATORS)]) -> Access:
    return _notifications(runtime, caller)


SubscriberDep = Annotated[Access, Depends(_subscriber)]
OperatorDep = Annotated[Access, Depends(_operator)]
