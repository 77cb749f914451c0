"""Referral routes: translate HTTP (our JSON, or a FHIR ServiceRequest through `fhir_referral`) to intake's
commands and queries and back. Who may refer and see: `domain.access`; the rest is the handlers'."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from services.intake import handlers
from services.intake.domain import access
from services.intake.domain.episode import ReceiveReferral, ReferralMismatch
from services.intake.handlers import PersonalDataErased, ReferralResult
from services.intake.routes.dependency import IntakeDep
from services.intake.routes.fhir_referral import AGB, FhirReferralError, to_command
from shared.access import episode_not_found
from shared.auth import Caller, Role, allow
from shared.http import DomainRejected, inline_schema

router = APIRouter(prefix="/v1", tags=["referrals"])

# A FHIR ServiceRequest may carry narrative XHTML and more contained resources than our JSON: more room than
# the services' default body limit (shared/http.py); intake's main.py gives it to the route.
REFERRAL_BODY_LIMIT = 1024 * 1024
# The dates a referral states are dates in the Netherlands, a day ahead of UTC for an hour or two each night.
NETHERLANDS = ZoneInfo("Europe/Amsterdam")

REFERRAL_EXAMPLE = {
    "referral_id": "HIS-2026-000123",
    "route": "gp_referral",
    "practice_agb": "04123456",
    "referrer_agb": "01234567",
    "referred_on": "2026-11-20",
    "symptom_onset": "2026-11-02",
    "patient": {"name": "J. de Vries", "bsn": "999990019", "birth_date": "1968-04-12"},
    "request_for_help": "Weer kunnen fietsen naar het werk zonder pijn.",
    "reason": "Aspecifieke lage rugpijn sinds drie weken, geen rode vlaggen.",
}


class EpisodeCreated(BaseModel):
    episode_id: uuid.UUID
    patient_id: uuid.UUID
    version: int


class EpisodeView(BaseModel):
    episode_id: uuid.UUID
    patient_id: uuid.UUID
    version: int
    route: str
    practice_agb: str
    referrer_agb: str | None
    referred_on: str
    personal: dict[str, Any] | None
    personal_data_erased: bool


FHIR_EXAMPLE = {
    "resourceType": "ServiceRequest",
    "identifier": [{"system": "urn:oid:2.16.528.1.1007.3.3.1234567.1", "value": "HIS-2026-000777"}],
    "status": "active",
    "intent": "order",
    "subject": {"reference": "#p1"},
    "authoredOn": "2026-11-20",
    "requester": {"identifier": {"system": AGB, "value": "01234567"}},
    "performer": [{"identifier": {"system": AGB, "value": "04123456"}}],
    "reasonCode": [{"text": "Aspecifieke lage rugpijn"}],
    "note": [{"text": "Wil weer kunnen tuinieren"}],
    "contained": [
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999990019"}],
            "name": [{"family": "Vries", "given": ["Johanna"]}],
            "birthDate": "1968-04-12",
        }
    ],
}


def _refuse_future_dates(command: ReceiveReferral, content_type: str, now: datetime) -> None:
    """A referral is sent on or after its date, for complaints that began before: a date past today in the
    Netherlands is a typo (a year off) or a clock gone wrong, and would put the episode's timers years ahead."""
    today = now.astimezone(NETHERLANDS).date()
    fhir = content_type == "application/fhir+json"
    errors = [
        {"loc": ("body", "authoredOn" if fhir and name == "referred_on" else name), "msg": f"{value} is after today"}
        for name, value in (("referred_on", command.referred_on), ("symptom_onset", command.symptom_onset))
        if value is not None and value > today
    ]
    if errors:
        raise RequestValidationError([{**e, "type": "date_in_future"} for e in errors])


def _parse(raw: bytes, content_type: str) -> ReceiveReferral:
    if content_type == "application/fhir+json":
        try:
            return to_command(raw)
        except FhirReferralError as error:
            raise DomainRejected(error.reason, error.path) from error
    if content_type not in ("application/json", ""):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send application/json or application/fhir+json")
    try:
        return ReceiveReferral.model_validate_json(raw or b"null")
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from error


@router.post(
    "/referrals",
    operation_id="receive_referral",
    status_code=status.HTTP_201_CREATED,
    response_model=EpisodeCreated,
    responses={
        200: {"description": "The same referral was received before; nothing changed"},
        409: {"description": "Requests for the same patient kept colliding; nothing changed; send it again"},
        415: {"description": "Neither application/json nor application/fhir+json"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": inline_schema(ReceiveReferral), "example": REFERRAL_EXAMPLE},
                "application/fhir+json": {
                    "schema": {"type": "object", "description": "A FHIR R4 ServiceRequest with a contained Patient"},
                    "example": FHIR_EXAMPLE,
                },
            },
        }
    },
)
async def post_referral(
    intake: IntakeDep,
    request: Request,
    caller: Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)],
    idempotency_key: Annotated[
        str | None, Header(description="Retries with the same key return the first answer.")
    ] = None,
) -> JSONResponse:
    """Receive a referral (verwijzing) or direct-access registration — our JSON or a FHIR ServiceRequest."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    command = _parse(await request.body(), content_type)
    if not access.may_refer(caller, command.practice_agb, command.referrer_agb):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a practice registers for itself; a verwijzer refers under its own AGB code"
        )
    now = intake.now()
    _refuse_future_dates(command, content_type, now)

    def answer_of(result: ReferralResult) -> tuple[int, dict]:
        created = EpisodeCreated(episode_id=result.episode_id, patient_id=result.patient_id, version=result.version)
        return (201 if result.created else 200), created.model_dump(mode="json")

    try:
        code, body = await handlers.receive_referral(intake, command, caller, idempotency_key, now, answer_of)
    except ReferralMismatch as error:
        field, _, reason = str(error).partition(": ")
        raise DomainRejected(reason, field) from error
    return JSONResponse(body, status_code=code)


@router.get("/episodes/{episode_id}", operation_id="get_intake_episode", response_model=EpisodeView)
async def get_episode(
    episode_id: uuid.UUID, intake: IntakeDep, caller: Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)]
) -> EpisodeView:
    """The episode as intake recorded it, with the patient's personal data unless it was erased."""
    try:
        episode, personal = await handlers.episode_view(intake, caller, episode_id, "GET /v1/episodes/{episode_id}")
    except access.NotFound as error:
        raise episode_not_found(episode_id) from error
    referral = episode.referral
    assert referral is not None
    return EpisodeView(
        episode_id=episode_id,
        patient_id=referral.patient_id,
        version=episode.version,
        route=referral.route,
        practice_agb=referral.practice_agb,
        referrer_agb=referral.referrer_agb,
        referred_on=referral.referred_on.isoformat(),
        personal=personal,
        personal_data_erased=personal is None,
    )


class LetterData(BaseModel):
    patient: dict[str, Any] = Field(description="name, birth_date (ISO) and bsn")
    request_for_help: str | None = Field(default=None, description="The hulpvraag as the referral stated it.")
    goals: str | None
    activities: dict[str, str] = Field(
        default_factory=dict,
        description="The patient's own activity labels (PSK, graded activity) by the reference that events carry"
        " in their place.",
    )


@router.get(
    "/episodes/{episode_id}/letter-data",
    operation_id="get_letter_data",
    response_model=LetterData,
    responses={410: {"description": "The patient's personal data was erased"}},
)
async def letter_data(
    episode_id: uuid.UUID, intake: IntakeDep, caller: Annotated[Caller, allow(Role.SERVICE)]
) -> LetterData:
    """For reporting, when it shows a letter: the patient's name, date of birth, BSN, hulpvraag, goals and activity
    labels; never stored there."""
    route = "GET /v1/episodes/{episode_id}/letter-data"
    try:
        found = await handlers.letter_data(intake, caller, episode_id, route)
    except access.NotFound as error:
        raise episode_not_found(episode_id) from error
    except PersonalDataErased as error:
        raise HTTPException(status.HTTP_410_GONE, "the patient's personal data was erased at their request") from error
    personal = found.personal
    patient = personal["patient"]
    return LetterData(
        patient={"name": patient["name"], "birth_date": patient["birth_date"], "bsn": patient.get("bsn")},
        request_for_help=personal.get("request_for_help"),
        goals=found.goals,
        activities=found.activities,
    )
