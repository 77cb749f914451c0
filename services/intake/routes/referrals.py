"""Referral routes: translate HTTP to intake commands and back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from services.intake import idempotency
from services.intake.domain.episode import ReceiveReferral, ReferralMismatch
from services.intake.fhir_referral import AGB, FhirReferralError, to_command
from services.intake.handlers import (
    ReferralResult,
    activity_labels_view,
    goals_view,
    handle_receive_referral,
    load_episode,
    personal_view,
)
from shared.access import episode_not_found, require_episode_access
from shared.access_log import Access, Action, log_access
from shared.auth import Caller, Role, allow
from shared.http import DomainRejected, correlation_id_of, inline_schema
from shared.service import RuntimeDep
from shared.store.unit_of_work import UnitOfWork

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
    runtime: RuntimeDep,
    request: Request,
    caller: Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)],
    idempotency_key: Annotated[
        str | None, Header(description="Retries with the same key return the first answer.")
    ] = None,
) -> JSONResponse:
    """Receive a referral (verwijzing) or direct-access registration — our JSON or a FHIR ServiceRequest."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    command = _parse(await request.body(), content_type)
    if not (
        caller.acts_for(Role.PRACTICE, command.practice_agb) or caller.acts_for(Role.REFERRER, command.referrer_agb)
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a practice registers for itself; a verwijzer refers under its own AGB code"
        )
    now = runtime.clock.now()
    _refuse_future_dates(command, content_type, now)
    async with runtime.pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, runtime.store, runtime.clock, correlation_id=correlation_id_of(request))

        async def produce() -> tuple[int, dict]:
            try:
                result: ReferralResult = await handle_receive_referral(
                    command,
                    uow,
                    runtime.settings.pseudonym_secret,
                    runtime.settings.key_encryption(),
                    caller,
                    "POST /v1/referrals",
                    now,
                )
            except ReferralMismatch as error:
                field, _, reason = str(error).partition(": ")
                raise DomainRejected(reason, field) from error
            created = EpisodeCreated(episode_id=result.episode_id, patient_id=result.patient_id, version=result.version)
            return (201 if result.created else 200), created.model_dump(mode="json")

        code, body = await idempotency.once(conn, caller, idempotency_key, "POST referrals", command, now, produce)
    return JSONResponse(body, status_code=code)


@router.get("/episodes/{episode_id}", operation_id="get_intake_episode", response_model=EpisodeView)
async def get_episode(
    episode_id: uuid.UUID, runtime: RuntimeDep, caller: Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)]
) -> EpisodeView:
    """The episode as intake recorded it, with the patient's personal data unless it was erased."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, runtime.store, runtime.clock)
        episode = await load_episode(uow, episode_id)
        if episode.referral is None:
            raise episode_not_found(episode_id)
        referral = episode.referral
        require_episode_access(caller, episode_id, referral.practice_agb, referral.referrer_agb)
        personal = await personal_view(uow, runtime.settings.key_encryption(), episode)
        await log_access(
            conn,
            caller,
            Access("intake", Action.READ, "GET /v1/episodes/{episode_id}", episode_id, referral.patient_id),
            runtime.clock.now(),
        )
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
    episode_id: uuid.UUID, runtime: RuntimeDep, caller: Annotated[Caller, allow(Role.SERVICE)]
) -> LetterData:
    """For reporting, when it shows a letter: the patient's name, date of birth, BSN, hulpvraag, goals and activity
    labels; never stored there."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, runtime.store, runtime.clock)
        episode = await load_episode(uow, episode_id)
        if episode.referral is None:
            raise episode_not_found(episode_id)
        personal = await personal_view(uow, runtime.settings.key_encryption(), episode)
        if personal is None:
            raise HTTPException(status.HTTP_410_GONE, "the patient's personal data was erased at their request")
        goals = await goals_view(uow, runtime.settings.key_encryption(), episode)
        activities = await activity_labels_view(uow, runtime.settings.key_encryption(), episode)
        await log_access(
            conn,
            caller,
            Access(
                "intake",
                Action.READ,
                "GET /v1/episodes/{episode_id}/letter-data",
                episode_id,
                episode.referral.patient_id,
            ),
            runtime.clock.now(),
        )
    patient = personal["patient"]
    return LetterData(
        patient={"name": patient["name"], "birth_date": patient["birth_date"], "bsn": patient.get("bsn")},
        request_for_help=personal.get("request_for_help"),
        goals=goals,
        activities=activities,
    )
