"""Subscription routes: register an endpoint for an episode filter, read, list, pause, resume, delete,
rotate the signing secret."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field, field_validator

from services.notifications import access, handlers
from services.notifications.domain.breaker import BreakerState
from services.notifications.domain.filters import AGB, Filter, Party
from services.notifications.domain.messages import ContentMode
from services.notifications.routes.dependencies import SubscriberDep
from services.notifications.store import subscriptions
from shared.events import REGISTRY

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


class FilterBody(BaseModel):
    party: Literal["practice", "referrer"] = Field(
        description="practice: episodes treated at this practice; referrer: episodes this verwijzer referred."
    )
    agb: str = Field(pattern=AGB.pattern, description="AGB code of the practice or verwijzer.")


class SubscriptionRequest(BaseModel):
    endpoint_url: str = Field(max_length=2000, description="Where deliveries are POSTed.")
    event_types: list[str] = Field(min_length=1, description="CloudEvent types to deliver.")
    filter: FilterBody | None = Field(
        default=None, description="Which episodes; defaults to the scope of the caller's credentials."
    )
    content_mode: ContentMode = Field(
        default=ContentMode.STRUCTURED, description="CloudEvents HTTP content mode: structured (default) or binary."
    )

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, types: list[str]) -> list[str]:
        known = {m.event_type for m in REGISTRY.subscribable()}
        unknown = sorted(set(types) - known)
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {sorted(known)}")
        return types


class SubscriptionView(BaseModel):
    subscription_id: uuid.UUID
    subscriber: str
    endpoint_url: str
    event_types: list[str]
    filter: FilterBody | None
    content_mode: ContentMode
    state: Literal["active", "paused", "gone"]
    state_reason: str | None
    active: bool
    breaker: BreakerState
    breaker_open_until: datetime | None
    last_sequence: int = Field(description="The highest sequence number sent so far (0: none yet).")
    previous_secret_valid_until: datetime | None
    created_at: datetime


class SubscriptionCreated(SubscriptionView):
    secret: str = Field(description="Standard Webhooks signing secret; shown once.")


class RotateRequest(BaseModel):
    overlap_seconds: float | None = Field(
        default=None, ge=0, le=7 * 24 * 3600, description="How long the old secret keeps signing too."
    )


class SecretRotated(BaseModel):
    secret: str = Field(description="The new signing secret; shown once.")
    previous_secret_valid_until: datetime


def view(sub: subscriptions.Subscription, now: datetime) -> dict:
    previous_until = sub.previous_secret_until if sub.previous_secret and sub.previous_secret_until else None
    return {
        "subscription_id": sub.subscription_id,
        "subscriber": sub.subscriber,
        "endpoint_url": sub.endpoint_url,
        "event_types": sub.event_types,
        "filter": FilterBody(party=sub.filter.party.value, agb=sub.filter.agb) if sub.filter else None,
        "content_mode": sub.content_mode,
        "state": sub.state,
        "state_reason": sub.state_reason,
        "active": sub.state == "active",
        "breaker": sub.breaker.state(now),
        "breaker_open_until": sub.breaker.open_until,
        "last_sequence": sub.next_sequence - 1,
        "previous_secret_valid_until": previous_until if previous_until and previous_until > now else None,
        "created_at": sub.created_at,
    }


@router.post("", operation_id="create_subscription", status_code=201, response_model=SubscriptionCreated)
async def create_subscription(request: SubscriptionRequest, subscriber: SubscriberDep) -> SubscriptionCreated:
    """Register an endpoint for event types of the episodes in a filter; the answer holds the signing secret."""
    requested = Filter(Party(request.filter.party), request.filter.agb) if request.filter else None
    wanted = access.subscription_filter(subscriber.caller, requested)
    if wanted is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "filter: outside the scope of the caller's credentials")
    now = subscriber.clock.now()
    sub = await handlers.create_subscription(
        subscriber.store,
        subscriber.owner,
        request.endpoint_url,
        request.event_types,
        wanted,
        request.content_mode,
        now,
        development=subscriber.settings.environment == "development",
    )
    return SubscriptionCreated(**view(sub, now), secret=sub.secret)


@router.get("", operation_id="list_subscriptions", response_model=list[SubscriptionView])
async def list_subscriptions(subscriber: SubscriberDep) -> list[SubscriptionView]:
    """The caller's subscriptions, without their secrets."""
    found = await subscriber.store.run(subscriptions.list_own, subscriber.owner)
    now = subscriber.clock.now()
    return [SubscriptionView(**view(s, now)) for s in found]


@router.get("/{subscription_id}", operation_id="get_subscription", response_model=SubscriptionView)
async def get_subscription(subscription_id: uuid.UUID, subscriber: SubscriberDep) -> SubscriptionView:
    """One of the caller's subscriptions, without its secret."""
    sub = await subscriber.own_subscription(subscription_id)
    return SubscriptionView(**view(sub, subscriber.clock.now()))


@router.post("/{subscription_id}/pause", operation_id="pause_subscription", response_model=SubscriptionView)
async def pause_subscription(subscription_id: uuid.UUID, subscriber: SubscriberDep) -> SubscriptionView:
    """Stop sending; events keep being queued and are sent after resume."""
    sub = await subscriber.own_subscription(subscription_id)
    paused = await handlers.pause_subscription(subscriber.store, sub, subscriber.clock.now())
    return SubscriptionView(**view(paused, subscriber.clock.now()))


@router.post("/{subscription_id}/resume", operation_id="resume_subscription", response_model=SubscriptionView)
async def resume_subscription(subscription_id: uuid.UUID, subscriber: SubscriberDep) -> SubscriptionView:
    """Send again (also after a 410 deactivated it); what was queued goes first, in order."""
    await subscriber.own_subscription(subscription_id)
    resumed = await handlers.resume_subscription(subscriber.store, subscription_id, subscriber.clock.now())
    return SubscriptionView(**view(resumed, subscriber.clock.now()))


@router.delete("/{subscription_id}", operation_id="delete_subscription", status_code=204)
async def delete_subscription(subscription_id: uuid.UUID, subscriber: SubscriberDep) -> Response:
    """Delete the subscription with its deliveries and their attempts."""
    await subscriber.own_subscription(subscription_id)
    await handlers.delete_subscription(subscriber.store, subscription_id)
    return Response(status_code=204)


@router.post("/{subscription_id}/secret/rotate", operation_id="rotate_secret", response_model=SecretRotated)
async def rotate_secret(
    subscription_id: uuid.UUID, subscriber: SubscriberDep, request: RotateRequest | None = None
) -> SecretRotated:
    """A new signing secret; deliveries carry signatures by both secrets until the overlap ends."""
    await subscriber.own_subscription(subscription_id)
    seconds = request.overlap_seconds if request and request.overlap_seconds is not None else None
    overlap = timedelta(seconds=subscriber.settings.secret_overlap_seconds if seconds is None else seconds)
    sub = await handlers.rotate_secret(subscriber.store, subscription_id, overlap, subscriber.clock.now())
    assert sub.previous_secret_until is not None
    return SecretRotated(secret=sub.secret, previous_secret_valid_until=sub.previous_secret_until)
