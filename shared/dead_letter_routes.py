"""`/v1/consumer/dead-letters`: a consuming service's dead letters for its operators (HTTP ↔
`shared.consumer.dead_letter_operations`). List them by state, type, episode, reason and age; read one as it was
received, with its error and every action taken on it; re-drive one or many after a fix; discard one with a
reason; see the episodes whose later events wait parked behind one (`/v1/consumer/parked`). Operator role
only; every action is kept with who, when and why."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, Field

from shared.auth import Caller, Role, allow
from shared.consumer.dead_letter_operations import (
    Action,
    Letter,
    LetterFilter,
    LetterState,
    Refused,
    actions_of,
    discard,
    find_letters,
    letter_of,
    redrive,
)
from shared.consumer.idempotent import IdempotentConsumer
from shared.consumer.parking import parked_episodes
from shared.service import Runtime, RuntimeDep

Operator = Annotated[Caller, allow(Role.OPERATOR)]
_BIGINT = 2**63 - 1  # the ids are PostgreSQL BIGINTs
LetterId = Annotated[int, Path(ge=1, le=_BIGINT, description="The dead letter's id, from the listing")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such dead letter in this service"}}


class DeadLetterSummary(BaseModel):
    id: int
    state: LetterState
    reason: str = Field(description="unparseable, invalid, or handler_failed")
    error: str = Field(description="The latest error")
    attempts: int
    event_id: uuid.UUID | None
    event_type: str | None
    episode_id: str | None
    topic: str
    partition: int
    offset: int
    created_at: datetime
    settled_at: datetime | None

    @classmethod
    def of(cls, letter: Letter) -> DeadLetterSummary:
        return cls(
            id=letter.id,
            state=letter.state,
            reason=letter.reason,
            error=letter.error,
            attempts=letter.attempts,
            event_id=letter.event_id,
            event_type=letter.event_type,
            episode_id=letter.episode,
            topic=letter.topic,
            partition=letter.partition,
            offset=letter.offset,
            created_at=letter.created_at,
            settled_at=letter.settled_at,
        )


class ReceivedRecord(BaseModel):
    key: str | None
    encoding: Literal["utf-8", "base64"]
    value: str = Field(description="The record's value as the consumer received it")


class LetterAction(BaseModel):
    action: Literal["redrive", "discard"]
    by: str
    org: str
    reason: str | None
    outcome: str
    error: str | None
    at: datetime


class DeadLetterDetail(DeadLetterSummary):
    record: ReceivedRecord
    actions: list[LetterAction]


class RedriveRequest(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=_BIGINT)]] = Field(
        min_length=1, max_length=100, description="Re-driven in this order"
    )


class RedriveResult(BaseModel):
    id: int
    outcome: Literal["handled", "duplicate", "ignored", "failed", "refused"]
    state: LetterState
    error: str | None
    released: int = Field(description="The episode's parked events that followed it, in order")


class DiscardResult(DeadLetterDetail):
    released: int = Field(description="The episode's parked events that followed, in order")


class ParkedEpisodeOut(BaseModel):
    episode_id: str
    parked: int = Field(description="Events of the episode waiting, in arrival order")
    since: datetime
    waiting_for: list[int] = Field(description="The open dead letters the episode waits for")


class DiscardRequest(BaseModel):
    reason: str = Field(min_length=10, max_length=2000, description="Why the letter is given up on (kept)")


def consumer_operations_router() -> APIRouter:
    """The dead letters and parked episodes of the service's consumer (mounted on a service that consumes)."""
    router = APIRouter(prefix="/v1/consumer", tags=["dead letters"])

    @router.get("/dead-letters", operation_id="list_consumer_dead_letters", response_model=list[DeadLetterSummary])
    async def list_letters(
        runtime: RuntimeDep,
        caller: Operator,
        state: LetterState | Literal["any"] = LetterState.OPEN,
        event_type: Annotated[str | None, Query(alias="type", max_length=200)] = None,
        episode_id: Annotated[str | None, Query(max_length=200)] = None,
        reason: Literal["unparseable", "invalid", "handler_failed"] | None = None,
        created_before: datetime | None = None,
        created_after: datetime | None = None,
        after_id: Annotated[int, Query(ge=0, le=_BIGINT)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[DeadLetterSummary]:
        """This service's consumer's dead letters, oldest first (page on with `after_id`): open ones unless
        `state` says otherwise."""
        wanted = LetterFilter(
            None if state == "any" else LetterState(state),
            event_type,
            episode_id,
            reason,
            created_before,
            created_after,
            after_id,
            limit,
        )
        async with runtime.pool.acquire() as conn:
            return [
                DeadLetterSummary.of(letter) for letter in await find_letters(conn, _consumer(runtime).name, wanted)
            ]

    @router.get(
        "/dead-letters/{letter_id}",
        operation_id="get_consumer_dead_letter",
        response_model=DeadLetterDetail,
        responses=_NOT_FOUND,
    )
    async def get_letter(runtime: RuntimeDep, caller: Operator, letter_id: LetterId) -> DeadLetterDetail:
        """One dead letter: the record as received, the latest error, and every action taken on it."""
        async with runtime.pool.acquire() as conn:
            letter = await letter_of(conn, _consumer(runtime).name, letter_id)
            if letter is None:
                raise _not_found(letter_id)
            return _detail(letter, await actions_of(conn, letter_id))

    @router.post(
        "/dead-letters/redrive",
        operation_id="redrive_consumer_dead_letters",
        response_model=list[RedriveResult],
        responses={404: {"description": "An id is no dead letter of this service; nothing was re-driven"}},
    )
    async def redrive_letters(runtime: RuntimeDep, caller: Operator, body: RedriveRequest) -> list[RedriveResult]:
        """Hand each letter's record to this service's consumer again, in the order given: handled (or found
        handled before: `duplicate`) settles it as re-driven; `failed` leaves it open with its latest error; a
        discarded letter is `refused`. Re-driving twice changes nothing."""
        consumer = _consumer(runtime)
        async with runtime.pool.acquire() as conn:
            unknown = [i for i in body.ids if await letter_of(conn, consumer.name, i) is None]
        if unknown:
            raise _not_found(*unknown)
        results = []
        for letter_id in body.ids:
            done = await redrive(runtime.pool, consumer, letter_id, caller, runtime.clock.now())
            results.append(
                RedriveResult(
                    id=letter_id, outcome=done.outcome, state=done.state, error=done.error, released=done.released
                )
            )
        return results

    @router.post(
        "/dead-letters/{letter_id}/discard",
        operation_id="discard_consumer_dead_letter",
        response_model=DiscardResult,
        responses={**_NOT_FOUND, 409: {"description": "The letter is settled already"}},
    )
    async def discard_letter(
        runtime: RuntimeDep, caller: Operator, letter_id: LetterId, body: DiscardRequest
    ) -> DiscardResult:
        """Give up on an open letter, for the reason given (kept with who and when); the events its episode
        parked behind it follow in order."""
        consumer = _consumer(runtime)
        try:
            letter, released = await discard(
                runtime.pool, consumer, letter_id, caller, body.reason, runtime.clock.now()
            )
        except LookupError:
            raise _not_found(letter_id) from None
        except Refused as refused:
            raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
        async with runtime.pool.acquire() as conn:
            detail = _detail(letter, await actions_of(conn, letter_id))
        return DiscardResult(**detail.model_dump(), released=released)

    @router.get("/parked", operation_id="list_parked_episodes", response_model=list[ParkedEpisodeOut])
    async def list_parked(
        runtime: RuntimeDep, caller: Operator, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[ParkedEpisodeOut]:
        """Episodes whose later events wait, parked in order, for a stuck event of theirs (an open dead letter):
        the longest waiting first."""
        async with runtime.pool.acquire() as conn:
            found = await parked_episodes(conn, _consumer(runtime).name, limit)
        return [ParkedEpisodeOut(**vars(p)) for p in found]

    return router


def _consumer(runtime: Runtime) -> IdempotentConsumer:
    if runtime.consumer is None:  # the router is only mounted on a service that consumes
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This service consumes no events")
    return runtime.consumer


def _not_found(*letter_ids: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"No dead letter {', '.join(map(str, letter_ids))} in this service")


def _detail(letter: Letter, actions: list[Action]) -> DeadLetterDetail:
    encoding, value = letter.value_text()
    key = letter.record_key.decode(errors="replace") if letter.record_key is not None else None
    return DeadLetterDetail(
        **DeadLetterSummary.of(letter).model_dump(),
        record=ReceivedRecord(key=key, encoding=encoding, value=value),
        actions=[
            LetterAction(
                action=a.action,
                by=a.actor_user,
                org=a.actor_org,
                reason=a.reason,
                outcome=a.outcome,
                error=a.error,
                at=a.at,
            )
            for a in actions
        ],
    )
