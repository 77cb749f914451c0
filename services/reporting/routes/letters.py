"""Letter routes: the episode's letters for its practice and verwijzer, as HTML, PDF or FHIR, and corrections."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from services.reporting.documents.letters.fhir_document import render_fhir_document
from services.reporting.documents.letters.html import render_html
from services.reporting.documents.letters.medvri import render_medvri
from services.reporting.documents.letters.pdf import render_pdf
from services.reporting.domain.letters.content import LetterContent, LetterFacts
from services.reporting.intake_client import UNAVAILABLE, shown_with
from services.reporting.letters.corrections import compose_correction
from shared.access import episode_not_found, require_episode_access
from shared.access_log import Access, Action, log_access
from shared.auth import Caller, Role, allow
from shared.service import Runtime, RuntimeDep
from shared.store.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["letters"])
ReaderDep = Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)]
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
    personal, parties = await shown_with(runtime, row["episode_id"], facts)
    return row, LetterContent.model_validate_json(row["content"]), personal, parties


def _corrects(row: Any) -> str | None:
    return str(row["corrects"]) if row["corrects"] else None


@router.get("/letters/{letter_id}", operation_id="get_letter_html", response_class=HTMLResponse, responses=UNAVAILABLE)
async def letter_html(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> Response:
    """The letter as HTML, in Dutch."""
    row, content, personal, parties = await _shown(runtime, caller, letter_id, "GET /v1/letters/{letter_id}")
    return HTMLResponse(render_html(content, personal, parties, corrects=_corrects(row)))


@router.get(
    "/letters/{letter_id}/pdf",
    operation_id="get_letter_pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF/A-2b"}, **UNAVAILABLE},
)
async def letter_pdf(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> Response:
    """The letter as an archival PDF (PDF/A-2b), with the course of the scores and the graded-activity graph."""
    row, content, personal, parties = await _shown(runtime, caller, letter_id, "GET /v1/letters/{letter_id}/pdf")
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
    row, content, personal, parties = await _shown(runtime, caller, letter_id, "GET /v1/letters/{letter_id}/fhir")
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
    row, content, personal, parties = await _shown(runtime, caller, letter_id, "GET /v1/letters/{letter_id}/medvri")
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
