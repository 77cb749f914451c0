"""Routes that record what happens in an open episode: translate HTTP to intake commands and back.

Every route takes `If-Match: "<version>"` (optimistic concurrency: 412 when the episode moved on) and
`Idempotency-Key` (a retry returns the first answer). Only the episode's own practice records
(`domain.access.command_scope`). Each route pairs its command with the domain's decision; the handler
(`handlers.run_episode_command`) loads, lets it decide and writes.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Header, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.intake.domain import activity_labels
from services.intake.domain import episode as rules
from services.intake.domain.access import NotFound
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
from services.intake.domain.episode import Episode, NotAllowed
from services.intake.handlers import CommandResult, Decide, Intake, Sealer, run_episode_command
from services.intake.routes.dependency import IntakeDep
from shared.access import episode_not_found
from shared.access_log import Access, Action
from shared.auth import Caller, Role, allow
from shared.events.payload import EventPayload
from shared.http import DomainRejected

router = APIRouter(prefix="/v1/episodes/{episode_id}", tags=["episode"])

PracticeDep = Annotated[Caller, allow(Role.PRACTICE)]
IfMatch = Annotated[
    str | None,
    Header(description='The version you saw, e.g. "3"; 412 when it moved on. Optional.'),
]
IdempotencyKey = Annotated[str | None, Header(description="Retries with the same key return the first answer.")]


class CommandAccepted(BaseModel):
    episode_id: uuid.UUID
    version: int
    appended: list[str]


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Nothing new: the episode already says this", "model": CommandAccepted},
    404: {"description": "No such episode for this practice"},
    409: {"description": "Other requests kept changing the episode while this one was decided; send it again"},
    412: {"description": "The episode changed since the version in If-Match: read it again"},
    422: {"description": "Invalid, or not allowed in the episode's current state"},
}


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError as error:
        raise DomainRejected('must be the episode version in quotes, e.g. "3"', "If-Match") from error


def keyed_route(route: str, episode_id: uuid.UUID) -> str:
    """What an Idempotency-Key is stored under besides the body: the route and the episode, so the same key and
    body sent for another episode is refused instead of answered with the first episode's result."""
    return f"{route} {episode_id}"


async def run(
    intake: Intake,
    caller: Caller,
    episode_id: uuid.UUID,
    route: str,
    command: Command,
    decide: Decide,
    if_match: str | None,
    idempotency_key: str | None,
) -> JSONResponse:
    expected = _expected_version(if_match)
    now = intake.now()

    def answer_of(result: CommandResult) -> tuple[int, dict]:
        answer = CommandAccepted(episode_id=episode_id, version=result.version, appended=result.appended)
        return (201 if result.appended else 200), answer.model_dump(mode="json")

    try:
        code, body = await run_episode_command(
            intake,
            caller,
            Access("intake", Action.UPDATE, route, episode_id),
            idempotency_key,
            (keyed_route(route, episode_id), command),
            expected,
            decide,
            now,
            answer_of,
        )
    except NotAllowed as error:
        raise DomainRejected(error.reason, error.field) from error
    except NotFound as error:
        raise episode_not_found(episode_id) from error
    return JSONResponse(body, status_code=code, headers={"ETag": f'"{body["version"]}"'})


C = TypeVar("C", bound=Command)


@dataclass(frozen=True)
class CommandRoute(Generic[C]):
    """One route: its path, operation id, summary (the route's OpenAPI summary and docstring), the command
    model it takes as its body and the domain decision the command goes to."""

    path: str
    operation_id: str
    summary: str
    model: type[C]
    decision: Callable[[Episode, C, Sealer], list[EventPayload]]


COMMANDS: list[CommandRoute[Any]] = [
    CommandRoute(
        "history",
        "take_history",
        "Record the history (anamnese).",
        TakeHistory,
        lambda e, c, seal: rules.take_history(e, c, seal("notes", c.notes)),
    ),
    CommandRoute(
        "assessment",
        "complete_assessment",
        "Record the examination (onderzoek), incl. the neurological exam.",
        CompleteAssessment,
        lambda e, c, seal: rules.complete_assessment(e, c, seal("notes", c.notes)),
    ),
    CommandRoute(
        "measurements",
        "record_measurement",
        "Record QBPDS, PSK, NPRS or STarT Back at intake or an evaluation.",
        RecordMeasurement,
        lambda e, c, seal: rules.record_measurement(
            e, c, seal.activities("measurement.psk", activity_labels.in_measurement(c.measurement))
        ),
    ),
    CommandRoute(
        "treatment-plan",
        "agree_treatment_plan",
        "Record the treatment plan agreed with the patient.",
        AgreeTreatmentPlan,
        lambda e, c, seal: rules.agree_treatment_plan(
            e,
            c,
            seal("goals", c.goals, deviation_arguments=c.deviation_arguments),
            seal.activities("graded_activity", activity_labels.in_programme(c.graded_activity)),
        ),
    ),
    CommandRoute(
        "sessions",
        "record_session",
        "Record a treatment session.",
        RecordSession,
        lambda e, c, seal: rules.record_session(e, c, seal("notes", c.notes)),
    ),
    CommandRoute(
        "activity-logs",
        "log_activity",
        "Record a logged day of the graded-activity programme.",
        LogActivity,
        lambda e, c, seal: rules.log_activity(e, c, seal.activities("day.activity", [c.day.activity])),
    ),
    CommandRoute(
        "report-consent",
        "record_report_consent",
        "Record the patient's consent to, or objection against, GP reports.",
        RecordReportConsent,
        lambda e, c, seal: rules.record_report_consent(e, c),
    ),
    CommandRoute(
        "closing",
        "close_episode",
        "Close the episode: goals met, the patient stops, or escalated to the verwijzer.",
        CloseEpisode,
        lambda e, c, seal: rules.close_episode(e, c),
    ),
]


def _add_route(spec: CommandRoute[Any]) -> None:
    model = spec.model

    # Annotations are evaluated here (no `from __future__ import annotations` in this module), so each route
    # gets its own command model as its body.
    async def endpoint(
        episode_id: uuid.UUID,
        command: model,  # type: ignore[valid-type]  # a variable as the type: FastAPI reads it at runtime
        intake: IntakeDep,
        caller: PracticeDep,
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        def decide(episode: Episode, seal: Sealer) -> list[EventPayload]:
            return spec.decision(episode, command, seal)

        route = f"POST {spec.path}"
        return await run(intake, caller, episode_id, route, command, decide, if_match, idempotency_key)

    endpoint.__doc__ = spec.summary
    endpoint.__name__ = spec.operation_id
    router.post(
        f"/{spec.path}",
        operation_id=spec.operation_id,
        status_code=status.HTTP_201_CREATED,
        response_model=CommandAccepted,
        responses=RESPONSES,
        summary=spec.summary,
    )(endpoint)


for _spec in COMMANDS:
    _add_route(_spec)
