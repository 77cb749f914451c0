"""Letter routes: the episode's letters for its practice and verwijzer, as HTML, PDF or FHIR, and corrections."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from services.reporting.letters.content import LetterContent, LetterFacts
from services.reporting.letters.corrections import compose_correction
from services.reporting.letters.fhir_document import render_fhir_document
from services.reporting.letters.medvri import render_medvri
from services.reporting.letters.pdf import render_pdf
from services.reporting.letters.render import render_html
from shared.access import episode_not_found, require_episode_access
from shared.access_log import Access, Action, log_access
from shared.auth import Caller, Role, allow, service_headers
from shared.http import problem
from shared.logging import get_logger
from shared.practice_register import LetterParties
from shared.service import Runtime, RuntimeDep
from shared.store.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["letters"])
log = get_logger(__name__)
ReaderDep = Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)]
#: Intake restarts in seconds; a letter asked for again after this is usually shown.
INTAKE_RETRY_AFTER_SECONDS = 5
_SUMMARY = "letter_id, kind, content->>'title' AS title, composed_at, corrects"


class LetterSummary(BaseModel):
    letter_id: uuid.UUID
    kind: str
    title: str
    composed_at: datetime
    corrects: uuid.UUID | None


class EpisodeLetters(BaseModel):
    episode_id: uuid.UUID
    withheld_by_objection: bool
    letters: list[LetterSummary]


async def _facts(conn, episode_id: uuid.UUID) -> LetterFacts | None:
    raw = await conn.fetchval("SELECT facts::text FROM letter_episodes WHERE episode_id = $1", episode_id)
    return LetterFacts.model_validate_json(raw) if raw else None


async def _letter(runtime: Runtime, caller: Caller, letter_id: uuid.UUID, route: str) -> tuple[Any, LetterFacts]:
    async with runtime.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM letters WHERE letter_id = $1", letter_id)
        facts = await _facts(conn, row["episode_id"]) if row else None
        if row is None or facts is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"letter {letter_id} is not known")
        require_episode_access(caller, row["episode_id"], facts.practice_agb, facts.referrer_agb)
        await log_access(conn, caller, Access("reporting", Action.READ, route, row["episode_id"]), runtime.clock.now())
    return row, facts


class IntakeUnreachable(Exception):
    """Intake did not answer: a letter is not shown without knowing whether the patient's data was erased."""


async def _from_intake(runtime: Runtime, path: str) -> httpx.Response:
    intake = runtime.settings.peer_urls.get("intake")
    if intake is None:
        raise IntakeUnreachable("no address for intake in PEER_URLS")
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(
                f"{intake}{path}", headers=service_headers(runtime.settings.jwt_secret, "reporting")
            )
    except httpx.HTTPError as error:
        log.warning("letters.intake_unreachable", error=repr(error))
        raise IntakeUnreachable(repr(error)) from error
    if response.status_code >= 500:
        log.warning("letters.intake_unavailable", status=response.status_code)
        raise IntakeUnreachable(f"intake answered {response.status_code}")
    return response


async def _shown_with(runtime: Runtime, episode_id: uuid.UUID, facts: LetterFacts) -> tuple[dict | None, LetterParties]:
    """What intake adds when a letter is shown: the patient's personal data (None only when intake says it was
    erased: 410) and the letter's parties from the register. Raises IntakeUnreachable when intake cannot say."""
    personal_answer = await _from_intake(runtime, f"/v1/episodes/{episode_id}/letter-data")
    if personal_answer.status_code == 200:
        personal = personal_answer.json()
    elif personal_answer.status_code == 410:
        personal = None
    else:
        raise IntakeUnreachable(f"intake answered {personal_answer.status_code} for the patient's data")
    parties_answer = await _from_intake(runtime, f"/v1/episodes/{episode_id}/letter-parties")
    if parties_answer.status_code == 200:
        parties = LetterParties.model_validate(parties_answer.json())
    else:  # intake has no register entry for the episode: name the parties by their AGB codes
        parties = LetterParties(
            practice_agb=facts.practice_agb or "onbekend",
            practice=None,
            therapist_agb=None,
            therapist=None,
            referrer_agb=facts.referrer_agb,
            referrer=None,
        )
    return personal, parties


def _intake_unreachable() -> Response:
    response = problem(
        503,
        "Service Unavailable",
        "The patient's data and the letter's sender and addressee come from intake, which cannot be reached "
        "right now; the letter is not shown without them. Try again after Retry-After seconds.",
    )
    response.headers["retry-after"] = str(INTAKE_RETRY_AFTER_SECONDS)
    return response


UNAVAILABLE = {503: {"description": "Intake cannot be reached; try again after Retry-After seconds"}}


@router.get("/episodes/{episode_id}/letters", operation_id="list_letters", response_model=EpisodeLetters)
async def list_letters(episode_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> EpisodeLetters:
    """The letters of an episode in the order they were composed (the final letter last); and whether the
    patient's objection withholds them."""
    async with runtime.pool.acquire() as conn:
        facts = await _facts(conn, episode_id)
        if facts is None:
            raise episode_not_found(episode_id)
        require_episode_access(caller, episode_id, facts.practice_agb, facts.referrer_agb)
        rows = await conn.fetch(
            f"SELECT {_SUMMARY} FROM letters WHERE episode_id = $1"
            " ORDER BY composed_at, CASE kind WHEN 'start' THEN 0 WHEN 'interim' THEN 1 ELSE 2 END, letter_key",
            episode_id,
        )
    return EpisodeLetters(
        episode_id=episode_id,
        withheld_by_objection=facts.objected,
        letters=[LetterSummary(**dict(r)) for r in rows],
    )


async def _shown(runtime: Runtime, caller: Caller, letter_id: uuid.UUID, route: str):
    row, facts = await _letter(runtime, caller, letter_id, route)
    personal, parties = await _shown_with(runtime, row["episode_id"], facts)
    return row, LetterContent.model_validate_json(row["content"]), personal, parties


def _corrects(row: Any) -> str | None:
    return str(row["corrects"]) if row["corrects"] else None


@router.get("/letters/{letter_id}", operation_id="get_letter_html", response_class=HTMLResponse, responses=UNAVAILABLE)
async def letter_html(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> Response:
    """The letter as HTML, in Dutch."""
    try:
        row, content, personal, parties = await _shown(runtime, caller, letter_id, "GET /v1/letters/{letter_id}")
    except IntakeUnreachable:
        return _intake_unreachable()
    return HTMLResponse(render_html(content, personal, parties, corrects=_corrects(row)))


@router.get(
    "/letters/{letter_id}/pdf",
    operation_id="get_letter_pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF/A-2b"}, **UNAVAILABLE},
)
async def letter_pdf(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> Response:
    """The letter as an archival PDF (PDF/A-2b), with the course of the scores and the graded-activity graph."""
    try:
        row, content, personal, parties = await _shown(runtime, caller, letter_id, "GET /v1/letters/{letter_id}/pdf")
    except IntakeUnreachable:
        return _intake_unreachable()
    pdf = render_pdf(content, personal, parties, corrects=_corrects(row))
    return Response(pdf, media_type="application/pdf")


@router.get(
    "/letters/{letter_id}/fhir",
    operation_id="get_letter_fhir",
    response_class=Response,
    responses={
        200: {
            "content": {"application/fhir+json": {"schema": {"type": "object", "description": "FHIR R4 Bundle"}}},
            "description": "A FHIR Bundle of type document: the Composition first, then what it references",
        },
        **UNAVAILABLE,
    },
)
async def letter_fhir(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> Response:
    """The letter as a FHIR document (Bundle with Composition, Patient, practitioners, organization, scores)."""
    try:
        row, content, personal, parties = await _shown(runtime, caller, letter_id, "GET /v1/letters/{letter_id}/fhir")
    except IntakeUnreachable:
        return _intake_unreachable()
    document = render_fhir_document(
        content,
        personal,
        parties,
        letter_id=str(letter_id),
        episode_id=str(row["episode_id"]),
        composed_at=row["composed_at"],
        corrects=_corrects(row),
    )
    return JSONResponse(document, media_type="application/fhir+json")


@router.get(
    "/letters/{letter_id}/medvri",
    operation_id="get_letter_medvri",
    response_class=Response,
    responses={200: {"content": {"application/edifact": {}}, "description": "Edifact MEDVRI"}, **UNAVAILABLE},
)
async def letter_medvri(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> Response:
    """The letter as an Edifact MEDVRI interchange, as GP systems receive it through ZorgMail."""
    try:
        row, content, personal, parties = await _shown(runtime, caller, letter_id, "GET /v1/letters/{letter_id}/medvri")
    except IntakeUnreachable:
        return _intake_unreachable()
    text = render_medvri(content, personal, parties, letter_id=str(letter_id), composed_at=row["composed_at"])
    return Response(text.encode("ascii"), media_type="application/edifact")


@router.post(
    "/letters/{letter_id}/corrections",
    operation_id="correct_letter",
    status_code=status.HTTP_201_CREATED,
    response_model=LetterSummary,
)
async def correct(
    letter_id: uuid.UUID, runtime: RuntimeDep, caller: Annotated[Caller, allow(Role.PRACTICE)]
) -> LetterSummary:
    """Compose a correction from the episode's current facts; the original letter stays as it was."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM letters WHERE letter_id = $1 FOR UPDATE", letter_id)
        facts = await _facts(conn, row["episode_id"]) if row else None
        if row is None or facts is None or not caller.acts_for(Role.PRACTICE, facts.practice_agb):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"letter {letter_id} is not known")
        if facts.objected:
            raise HTTPException(status.HTTP_409_CONFLICT, "the patient objects to reports to the GP")
        new_id = await compose_correction(UnitOfWork(conn, runtime.store, runtime.clock), row, facts)
        await log_access(
            conn,
            caller,
            Access("reporting", Action.CREATE, "POST /v1/letters/{letter_id}/corrections", row["episode_id"]),
            runtime.clock.now(),
        )
        created = await conn.fetchrow(
            f"SELECT {_SUMMARY} FROM letters WHERE letter_id = $1",
            new_id,
        )
    return LetterSummary(**dict(created))
