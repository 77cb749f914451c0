"""Routes that record what happens in an open episode: translate HTTP to intake commands and back.

Every route takes `If-Match: "<version>"` (optimistic concurrency: 409 when the episode moved on) and
`Idempotency-Key` (a retry returns the first answer). Only the episode's own practice records.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.intake import idempotency
from services.intake.domain import episode as rules
from services.intake.domain.commands import (
    AgreeTreatmentPlan,
    CloseEpisode,
    Command,
    CompleteAssessment,
    LogActivity,
    RecordMeasurement,
    RecordReportConsent,
    RecordSession,
    TakeHistory,
)
from services.intake.domain.episode import NotAllowed
from services.intake.handlers import Decide, handle_episode_command
from shared.access import episode_not_found
from shared.access_log import Access, Action, log_access
from shared.auth import Caller, Role, allow
from shared.http import DomainRejected, correlation_id_of
from shared.service import Runtime, RuntimeDep
from shared.store.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/episodes/{episode_id}", tags=["episode"])

PracticeDep = Annotated[Caller, allow(Role.PRACTICE)]
IfMatch = Annotated[str | None, Header(description='The version you saw, e.g. "3"; 409 when it moved on.')]
IdempotencyKey = Annotated[str | None, Header(description="Retries with the same key return the first answer.")]


class CommandAccepted(BaseModel):
    episode_id: uuid.UUID
    version: int
    appended: list[str]


RESPONSES: dict[int | str, dict] = {
    200: {"description": "Nothing new: the episode already says this", "model": CommandAccepted},
    404: {"description": "No such episode for this practice"},
    409: {"description": "The episode changed since the version in If-Match"},
    422: {"description": "Invalid, or not allowed in the episode's current state"},
}


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError as error:
        raise DomainRejected('must be the episode version in quotes, e.g. "3"', "If-Match") from error


async def run(
    runtime: Runtime,
    request: Request,
    caller: Caller,
    episode_id: uuid.UUID,
    route: str,
    command: Command,
    decide: Decide,
    if_match: str | None,
    idempotency_key: str | None,
) -> JSONResponse:
    expected = _expected_version(if_match)
    now = runtime.clock.now()
    async with runtime.pool.acquire() as conn, conn.transaction():
        owner = await conn.fetchrow(
            "SELECT practice_agb, patient_id FROM patient_episodes WHERE episode_id = $1", episode_id
        )
        if owner is None or not caller.acts_for(Role.PRACTICE, owner["practice_agb"]):
            raise episode_not_found(episode_id)
        uow = UnitOfWork(conn, runtime.store, runtime.clock, correlation_id=correlation_id_of(request))

        async def produce() -> tuple[int, dict]:
            try:
                result = await handle_episode_command(uow, episode_id, expected, decide)
            except NotAllowed as error:
                raise DomainRejected(error.reason, error.field) from error
            await log_access(conn, caller, Access("intake", Action.UPDATE, route, episode_id, owner["patient_id"]), now)
            answer = CommandAccepted(episode_id=episode_id, version=result.version, appended=result.appended)
            return (201 if result.appended else 200), answer.model_dump(mode="json")

        code, body = await idempotency.once(conn, caller, idempotency_key, route, command, now, produce)
    return JSONResponse(body, status_code=code, headers={"ETag": f'"{body["version"]}"'})


def _route(path: str, operation_id: str, summary: str):
    return router.post(
        path,
        operation_id=operation_id,
        status_code=status.HTTP_201_CREATED,
        response_model=CommandAccepted,
        responses=RESPONSES,
        summary=summary,
    )


@_route("/history", "take_history", "Record the history (anamnese).")
async def post_history(
    episode_id: uuid.UUID,
    command: TakeHistory,
    runtime: RuntimeDep,
    request: Request,
    caller: PracticeDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the history (anamnese)."""

    def decide(episode, seal):
        return rules.take_history(episode, command, seal("notes", command.notes))

    return await run(runtime, request, caller, episode_id, "POST history", command, decide, if_match, idempotency_key)


@_route("/assessment", "complete_assessment", "Record the examination, incl. the neurological exam.")
async def post_assessment(
    episode_id: uuid.UUID,
    command: CompleteAssessment,
    runtime: RuntimeDep,
    request: Request,
    caller: PracticeDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the examination (onderzoek), incl. the neurological exam."""

    def decide(episode, seal):
        return rules.complete_assessment(episode, command, seal("notes", command.notes))

    return await run(
        runtime, request, caller, episode_id, "POST assessment", command, decide, if_match, idempotency_key
    )


@_route("/measurements", "record_measurement", "Record QBPDS, PSK, NPRS or STarT Back at intake or evaluation.")
async def post_measurement(
    episode_id: uuid.UUID,
    command: RecordMeasurement,
    runtime: RuntimeDep,
    request: Request,
    caller: PracticeDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record QBPDS, PSK, NPRS or STarT Back at intake or at an evaluation."""

    def decide(episode, seal):
        return rules.record_measurement(episode, command)

    return await run(
        runtime, request, caller, episode_id, "POST measurements", command, decide, if_match, idempotency_key
    )


@_route("/treatment-plan", "agree_treatment_plan", "Record the treatment plan agreed with the patient.")
async def post_plan(
    episode_id: uuid.UUID,
    command: AgreeTreatmentPlan,
    runtime: RuntimeDep,
    request: Request,
    caller: PracticeDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the treatment plan agreed with the patient."""

    def decide(episode, seal):
        sealed = seal("goals", command.goals, deviation_arguments=command.deviation_arguments)
        return rules.agree_treatment_plan(episode, command, sealed)

    return await run(
        runtime, request, caller, episode_id, "POST treatment-plan", command, decide, if_match, idempotency_key
    )


@_route("/sessions", "record_session", "Record a treatment session.")
async def post_session(
    episode_id: uuid.UUID,
    command: RecordSession,
    runtime: RuntimeDep,
    request: Request,
    caller: PracticeDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a treatment session."""

    def decide(episode, seal):
        return rules.record_session(episode, command, seal("notes", command.notes))

    return await run(runtime, request, caller, episode_id, "POST sessions", command, decide, if_match, idempotency_key)


@_route("/activity-logs", "log_activity", "Record a logged day of the graded-activity programme.")
async def post_activity_log(
    episode_id: uuid.UUID,
    command: LogActivity,
    runtime: RuntimeDep,
    request: Request,
    caller: PracticeDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a logged day of the graded-activity programme."""

    def decide(episode, seal):
        return rules.log_activity(episode, command)

    return await run(
        runtime, request, caller, episode_id, "POST activity-logs", command, decide, if_match, idempotency_key
    )


@_route("/report-consent", "record_report_consent", "Record the patient's consent or objection to GP reports.")
async def post_report_consent(
    episode_id: uuid.UUID,
    command: RecordReportConsent,
    runtime: RuntimeDep,
    request: Request,
    caller: PracticeDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the patient's consent to, or objection against, reports to the GP."""

    def decide(episode, seal):
        return rules.record_report_consent(episode, command)

    return await run(
        runtime, request, caller, episode_id, "POST report-consent", command, decide, if_match, idempotency_key
    )


@_route("/closing", "close_episode", "Close the episode.")
async def post_closing(
    episode_id: uuid.UUID,
    command: CloseEpisode,
    runtime: RuntimeDep,
    request: Request,
    caller: PracticeDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Close the episode: goals met, the patient stops, or escalated to the verwijzer."""

    def decide(episode, seal):
        return rules.close_episode(episode, command)

    return await run(runtime, request, caller, episode_id, "POST closing", command, decide, if_match, idempotency_key)
