"""The operator's page and what it asks (`peers` for the other services, with the operator's own token):

- `/operations`: the page (open; it holds no data, its script asks the API below with the token entered).
- `GET /v1/operations/overview`: every service's health, loops, relay and consumer lag, dead letters and parked
  episodes; every subscription's backlog and breaker; the pathway's open escalations and overdue evaluations
  per practice.
- `…/services/{service}/dead-letters` with re-drive and discard, and `…/parked` (the episodes waiting behind
  them): passed on to the service that holds them, which decides and keeps who acted and why.
- `…/subscriptions/{id}/pause` and `/resume`: any subscriber's subscription (the reason names the operator).

Operators only (`access.OPERATORS`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field

from services.notifications import handlers
from services.notifications.peers import Peers, PeerUnreachable, practice_attention, statuses
from services.notifications.routes.dependencies import OperatorDep
from services.notifications.routes.subscriptions import SubscriptionView, view
from shared.dead_letter_routes import (
    DeadLetterSummary,
    DiscardRequest,
    DiscardResult,
    ParkedEpisodeOut,
    RedriveResult,
)
from shared.pages import static_page_router
from shared.status_routes import PracticeAttention, ServiceStatus

router = APIRouter(prefix="/v1/operations", tags=["operations"])
page_router = static_page_router(
    "/operations",
    resources.files("services.notifications.documents") / "operations",
    "operations.html",
    ["operations.js", "operations.css"],
    tag="operations",
)

ServiceName = Annotated[
    Literal["intake", "pathway", "reporting", "notifications"], Path(description="The service holding the letters")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many")]
LetterId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The dead letter's id in that service")]
PEER_RETRY_AFTER_SECONDS = 5
_PEER_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {"description": "The service holding the letter answered with an error"},
    503: {"description": "The service holding the letter cannot be reached; try again after Retry-After"},
}


class ServiceCard(BaseModel):
    service: str
    reachable: bool
    error: str | None = Field(description="Why the status could not be read (None: it was)")
    status: ServiceStatus | None


class SubscriptionBacklog(BaseModel):
    subscription_id: uuid.UUID
    subscriber: str
    endpoint_url: str
    state: Literal["active", "paused"]
    state_reason: str | None
    breaker_open: bool
    pending: int
    retrying: int = Field(description="Pending deliveries that failed at least once")
    dead: int
    oldest_pending_seconds: float | None = Field(description="Age of the oldest undelivered event (None: none)")


class Overview(BaseModel):
    at: datetime
    services: list[ServiceCard]
    subscriptions: list[SubscriptionBacklog]
    practices: list[PracticeAttention] | None = Field(description="None when the pathway could not be asked")
    practices_error: str | None


def _peers(operator: OperatorDep) -> Peers:
    return Peers(operator.settings.peer_urls)


def _authorization(request: Request) -> str:
    return request.headers["authorization"]  # the operator dependency has checked it


async def _backlogs(operator: OperatorDep) -> list[SubscriptionBacklog]:
    rows = await handlers.subscription_backlogs(operator.store, operator.clock.now())
    return [
        SubscriptionBacklog(**dict(row)) for row in sorted(rows, key=lambda r: (r["subscriber"], r["endpoint_url"]))
    ]


@router.get("/overview", operation_id="get_operations_overview", response_model=Overview)
async def overview(operator: OperatorDep, request: Request) -> Overview:
    """What the operator's page shows: every service, every subscription, and the practices that need
    attention."""
    authorization = _authorization(request)
    cards = await statuses(_peers(operator), authorization)
    practices, practices_error = await practice_attention(_peers(operator), authorization)
    return Overview(
        at=operator.clock.now(),
        services=[
            ServiceCard(service=c.service, reachable=c.status is not None, error=c.error, status=c.status)
            for c in cards
        ],
        subscriptions=await _backlogs(operator),
        practices=practices,
        practices_error=practices_error,
    )


@router.get("/subscriptions", operation_id="list_subscription_backlogs", response_model=list[SubscriptionBacklog])
async def list_subscription_backlogs(operator: OperatorDep) -> list[SubscriptionBacklog]:
    """Every live subscription with its backlog, oldest undelivered event and breaker."""
    return await _backlogs(operator)


@router.post(
    "/subscriptions/{subscription_id}/pause",
    operation_id="operator_pause_subscription",
    response_model=SubscriptionView,
)
async def operator_pause(subscription_id: uuid.UUID, operator: OperatorDep) -> SubscriptionView:
    """Stop sending to a subscriber's endpoint (events keep being queued); the reason names the operator."""
    sub = await operator.any_subscription(subscription_id)
    paused = await handlers.pause_subscription(
        operator.store, sub, operator.clock.now(), by=f"operator {operator.caller.user}"
    )
    return SubscriptionView(**view(paused, operator.clock.now()))


@router.post(
    "/subscriptions/{subscription_id}/resume",
    operation_id="operator_resume_subscription",
    response_model=SubscriptionView,
)
async def operator_resume(subscription_id: uuid.UUID, operator: OperatorDep) -> SubscriptionView:
    """Send again, with the breaker closed; what was queued goes first, in order."""
    await operator.any_subscription(subscription_id)
    resumed = await handlers.resume_subscription(operator.store, subscription_id, operator.clock.now())
    return SubscriptionView(**view(resumed, operator.clock.now()))


async def _pass_on(
    operator: OperatorDep, request: Request, service: str, method: str, path: str, body: Any = None, params: Any = None
) -> Any:
    """The service's answer (JSON) to the operator's request, which the route's response model checks; its
    refusals (4xx) as they were."""
    try:
        answer = await _peers(operator).call(service, method, path, _authorization(request), body, params)
    except PeerUnreachable as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, str(error), headers={"Retry-After": str(PEER_RETRY_AFTER_SECONDS)}
        ) from None
    if 400 <= answer.status_code < 500:
        detail = answer.json().get("detail") if "json" in answer.headers.get("content-type", "") else answer.text
        raise HTTPException(answer.status_code, f"{service}: {detail}")
    if answer.status_code >= 500:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"{service} answered {answer.status_code}")
    return answer.json()


@router.get(
    "/services/{service}/dead-letters",
    operation_id="list_service_dead_letters",
    response_model=list[DeadLetterSummary],
    responses=_PEER_ERRORS,
)
async def list_service_dead_letters(
    service: ServiceName, operator: OperatorDep, request: Request, limit: Limit = 100
) -> Any:
    """The service's consumer's open dead letters, oldest first."""
    return await _pass_on(operator, request, service, "GET", "/v1/consumer/dead-letters", params={"limit": limit})


@router.get(
    "/services/{service}/parked",
    operation_id="list_service_parked_episodes",
    response_model=list[ParkedEpisodeOut],
    responses=_PEER_ERRORS,
)
async def list_service_parked_episodes(
    service: ServiceName, operator: OperatorDep, request: Request, limit: Limit = 100
) -> Any:
    """The service's episodes whose later events wait behind an open dead letter, the longest waiting first."""
    return await _pass_on(operator, request, service, "GET", "/v1/consumer/parked", params={"limit": limit})


@router.post(
    "/services/{service}/dead-letters/{letter_id}/redrive",
    operation_id="redrive_service_dead_letter",
    response_model=RedriveResult,
    responses=_PEER_ERRORS,
)
async def redrive_service_dead_letter(
    service: ServiceName, letter_id: LetterId, operator: OperatorDep, request: Request
) -> Any:
    """Hand the letter's record to the service's consumer again (the service keeps who did it)."""
    [result] = await _pass_on(
        operator, request, service, "POST", "/v1/consumer/dead-letters/redrive", body={"ids": [letter_id]}
    )
    return result


@router.post(
    "/services/{service}/dead-letters/{letter_id}/discard",
    operation_id="discard_service_dead_letter",
    response_model=DiscardResult,
    responses=_PEER_ERRORS,
)
async def discard_service_dead_letter(
    service: ServiceName, letter_id: LetterId, operator: OperatorDep, request: Request, body: DiscardRequest
) -> Any:
    """Give up on the letter for the reason given (the service keeps it with who and when)."""
    return await _pass_on(
        operator, request, service, "POST", f"/v1/consumer/dead-letters/{letter_id}/discard", body=body.model_dump()
    )
