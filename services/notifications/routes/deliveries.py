"""Delivery routes: a subscription's deliveries and their attempts, catch-up (as a page or redelivered),
and its dead-letter list with re-drive; operators get a read-only view of all dead letters."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator

from services.notifications.domain.outcome import DeliveryStatus
from services.notifications.routes.dependencies import OperatorDep, SubscriberDep
from services.notifications.store import deliveries
from shared.http import DomainRejected

router = APIRouter(prefix="/v1/subscriptions/{subscription_id}", tags=["deliveries"])
operations = APIRouter(prefix="/v1", tags=["operations"])


class DeliveryView(BaseModel):
    delivery_id: uuid.UUID
    sequence: int | None = Field(description="Per-subscription number, given when first sent.")
    event_id: uuid.UUID
    event_type: str
    subject: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    occurred_at: datetime
    created_at: datetime
    priority: int


class AttemptView(BaseModel):
    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None


class DeliveryDetail(DeliveryView):
    attempt_log: list[AttemptView]


class CatchUpItem(BaseModel):
    sequence: int
    delivery_id: uuid.UUID
    status: DeliveryStatus
    event: dict[str, Any] = Field(description="The CloudEvent, as published (structured JSON).")


class CatchUpPage(BaseModel):
    events: list[CatchUpItem]
    next_since_sequence: int | None = Field(description="Ask again with this to get the next page; None at the end.")


class ReplayRequest(BaseModel):
    since_sequence: int | None = Field(default=None, ge=0, description="Everything after this sequence number.")
    since_time: datetime | None = Field(default=None, description="Everything that happened at or after this time.")

    @model_validator(mode="after")
    def _one_of(self) -> ReplayRequest:
        if (self.since_sequence is None) == (self.since_time is None):
            raise ValueError("give exactly one of since_sequence and since_time")
        return self


class Requeued(BaseModel):
    requeued: int
    sequences: list[int]


class RedriveRequest(BaseModel):
    delivery_ids: list[uuid.UUID] | None = Field(default=None, description="Only these; all dead letters if absent.")


class DeadLetterView(BaseModel):
    subscription_id: uuid.UUID
    subscriber: str
    delivery_id: uuid.UUID
    sequence: int | None
    event_id: uuid.UUID
    event_type: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    dead_at: datetime | None


def _limit(limit: int) -> int:
    if not 1 <= limit <= 1000:
        raise DomainRejected("must be between 1 and 1000", "limit")
    return limit


@router.get("/deliveries", operation_id="list_deliveries", response_model=list[DeliveryView])
async def list_deliveries(
    subscription_id: uuid.UUID,
    subscriber: SubscriberDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    after_sequence: int | None = None,
    limit: int = 100,
) -> list[DeliveryView]:
    """The subscription's deliveries: numbered ones in sequence order, then those not sent yet."""
    await subscriber.own_subscription(subscription_id)
    rows = await subscriber.store.run(
        deliveries.list_for, subscription_id, status=status_, after_sequence=after_sequence, limit=_limit(limit)
    )
    return [DeliveryView(**dict(r)) for r in rows]


@router.get("/deliveries/{delivery_id}", operation_id="get_delivery", response_model=DeliveryDetail)
async def get_delivery(subscription_id: uuid.UUID, delivery_id: uuid.UUID, subscriber: SubscriberDep) -> DeliveryDetail:
    """One delivery with every attempt: when, the answer's status, latency and error."""
    await subscriber.own_subscription(subscription_id)
    row, attempts = await subscriber.store.run(deliveries.get_one, subscription_id, delivery_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"delivery {delivery_id} is not known")
    return DeliveryDetail(**dict(row), attempt_log=[AttemptView(**dict(a)) for a in attempts])


@router.get("/events", operation_id="catch_up", response_model=CatchUpPage)
async def catch_up(
    subscription_id: uuid.UUID,
    subscriber: SubscriberDep,
    since_sequence: int | None = None,
    since_time: datetime | None = None,
    limit: int = 100,
) -> CatchUpPage:
    """Events after a sequence number or since a time, as a page (like FHIR's `$events`)."""
    if since_sequence is None and since_time is None:
        since_sequence = 0
    if since_time is not None and since_time.tzinfo is None:
        raise DomainRejected("must carry a timezone", "since_time")
    await subscriber.own_subscription(subscription_id)
    limit = _limit(limit)
    rows = await subscriber.store.run(
        deliveries.page_read_by,
        subscriber.caller,
        "GET /v1/subscriptions/{subscription_id}/events",
        subscription_id,
        since_sequence,
        since_time,
        limit,
        subscriber.clock.now(),
    )
    items = [
        CatchUpItem(
            sequence=r["sequence"], delivery_id=r["delivery_id"], status=r["status"], event=json.loads(r["body"])
        )
        for r in rows
    ]
    return CatchUpPage(events=items, next_since_sequence=items[-1].sequence if len(items) == limit else None)


@router.post("/replay", operation_id="replay", response_model=Requeued, status_code=202)
async def replay(subscription_id: uuid.UUID, request: ReplayRequest, subscriber: SubscriberDep) -> Requeued:
    """Deliver again everything after a sequence number or since a time, with the original numbers."""
    if request.since_time is not None and request.since_time.tzinfo is None:
        raise DomainRejected("must carry a timezone", "since_time")
    await subscriber.own_subscription(subscription_id)
    sequences = await subscriber.store.run(
        deliveries.requeue,
        subscription_id,
        subscriber.clock.now(),
        since_sequence=request.since_sequence,
        since_time=request.since_time,
    )
    return Requeued(requeued=len(sequences), sequences=sequences)


@router.get("/dead-letters", operation_id="list_dead_letters", response_model=list[DeliveryView])
async def list_dead_letters(
    subscription_id: uuid.UUID, subscriber: SubscriberDep, limit: int = 100
) -> list[DeliveryView]:
    """Deliveries that failed every attempt."""
    await subscriber.own_subscription(subscription_id)
    rows = await subscriber.store.run(
        deliveries.list_for, subscription_id, status=DeliveryStatus.DEAD, after_sequence=None, limit=_limit(limit)
    )
    return [DeliveryView(**dict(r)) for r in rows]


@router.post("/dead-letters/redrive", operation_id="redrive_dead_letters", response_model=Requeued, status_code=202)
async def redrive_dead_letters(
    subscription_id: uuid.UUID, subscriber: SubscriberDep, request: RedriveRequest | None = None
) -> Requeued:
    """Send dead letters again, with a fresh round of attempts and their original numbers."""
    await subscriber.own_subscription(subscription_id)
    sequences = await subscriber.store.run(
        deliveries.requeue,
        subscription_id,
        subscriber.clock.now(),
        dead_only=True,
        delivery_ids=request.delivery_ids if request else None,
    )
    return Requeued(requeued=len(sequences), sequences=sequences)


@operations.get("/dead-letters", operation_id="list_all_dead_letters", response_model=list[DeadLetterView])
async def list_all_dead_letters(operator: OperatorDep, limit: int = 100) -> list[DeadLetterView]:
    """Every subscription's dead letters, without the events: for operators, read only."""
    rows = await operator.store.run(deliveries.all_dead, _limit(limit))
    return [DeadLetterView(**dict(r)) for r in rows]
