"""Subscription routes: register an endpoint, read it back, list its deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, field_validator

from services.notifications import subscriptions
from shared.auth import Caller, Role, allow
from shared.events import REGISTRY
from shared.http import DomainRejected
from shared.service import RuntimeDep

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


SubscriberDep = Annotated[Caller, allow(Role.SUBSCRIBER)]


class SubscriptionRequest(BaseModel):
    endpoint_url: str = Field(max_length=2000, description="Where deliveries are POSTed.")
    event_types: list[str] = Field(min_length=1, description="CloudEvent types to deliver.")

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, types: list[str]) -> list[str]:
        known = {m.event_type for m in REGISTRY.models()}
        unknown = sorted(set(types) - known)
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {sorted(known)}")
        return types


class SubscriptionView(BaseModel):
    subscription_id: uuid.UUID
    subscriber: str
    endpoint_url: str
    event_types: list[str]
    active: bool
    created_at: datetime


class SubscriptionCreated(SubscriptionView):
    secret: str = Field(description="Standard Webhooks signing secret; shown once.")


class DeliveryView(BaseModel):
    delivery_id: uuid.UUID
    sequence: int
    event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None


def _view(sub: subscriptions.Subscription) -> dict:
    return {
        "subscription_id": sub.subscription_id,
        "subscriber": sub.subscriber,
        "endpoint_url": sub.endpoint_url,
        "event_types": sub.event_types,
        "active": sub.active,
        "created_at": sub.created_at,
    }


@router.post("", operation_id="create_subscription", status_code=201, response_model=SubscriptionCreated)
async def create_subscription(
    request: SubscriptionRequest, runtime: RuntimeDep, caller: SubscriberDep
) -> SubscriptionCreated:
    """Register an endpoint for the given event types; the answer holds the signing secret."""
    refused = subscriptions.check_endpoint_url(
        request.endpoint_url, allow_loopback=runtime.settings.environment == "development"
    )
    if refused:
        raise DomainRejected(refused, "endpoint_url")
    async with runtime.pool.acquire() as conn:
        sub = await subscriptions.create(
            conn, caller.org, request.endpoint_url, request.event_types, runtime.clock.now()
        )
    return SubscriptionCreated(**_view(sub), secret=sub.secret)


@router.get("/{subscription_id}", operation_id="get_subscription", response_model=SubscriptionView)
async def get_subscription(subscription_id: uuid.UUID, runtime: RuntimeDep, caller: SubscriberDep) -> SubscriptionView:
    """One of the caller's subscriptions, without its secret."""
    async with runtime.pool.acquire() as conn:
        sub = await subscriptions.get(conn, subscription_id)
    if sub is None or sub.subscriber != caller.org:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"subscription {subscription_id} is not known")
    return SubscriptionView(**_view(sub))


@router.get("/{subscription_id}/deliveries", operation_id="list_deliveries", response_model=list[DeliveryView])
async def list_deliveries(
    subscription_id: uuid.UUID, runtime: RuntimeDep, caller: SubscriberDep, after_sequence: int = 0, limit: int = 100
) -> list[DeliveryView]:
    """The subscription's deliveries in sequence order, after a sequence number."""
    if not 1 <= limit <= 1000:
        raise DomainRejected("must be between 1 and 1000", "limit")
    async with runtime.pool.acquire() as conn:
        sub = await subscriptions.get(conn, subscription_id)
        if sub is None or sub.subscriber != caller.org:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"subscription {subscription_id} is not known")
        rows = await conn.fetch(
            "SELECT delivery_id, sequence, event_id, event_type, status, attempts, next_attempt_at,"
            " delivered_at FROM deliveries WHERE subscription_id = $1 AND sequence > $2"
            " ORDER BY sequence LIMIT $3",
            subscription_id,
            after_sequence,
            limit,
        )
    return [DeliveryView(**dict(r)) for r in rows]
