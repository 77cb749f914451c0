"""What the notification routes share: the subscriber dependency and finding the caller's own subscription."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import HTTPException, status

from services.notifications import subscriptions
from services.notifications.settings import NotificationsSettings
from shared.auth import Caller, Role, allow
from shared.service import Runtime

SubscriberDep = Annotated[Caller, allow(Role.SUBSCRIBER)]
OperatorDep = Annotated[Caller, allow(Role.OPERATOR)]


def not_found(subscription_id: uuid.UUID) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"subscription {subscription_id} is not known")


async def own_subscription(runtime: Runtime, caller: Caller, subscription_id: uuid.UUID) -> subscriptions.Subscription:
    """The caller's subscription; another subscriber's answers 404, like one that does not exist."""
    async with runtime.pool.acquire() as conn:
        found = await subscriptions.get_own(conn, subscription_id, caller.org)
    if found is None:
        raise not_found(subscription_id)
    return found


def settings_of(runtime: Runtime) -> NotificationsSettings:
    assert isinstance(runtime.settings, NotificationsSettings)
    return runtime.settings
