"""Letter routes: the episode's letters for its practice and verwijzer, as HTML, PDF, FHIR or MEDVRI, and
corrections (HTTP ↔ `handlers.read_episode_letters`, `read_letter`, `correct_letter`; renderings from
`documents.letters`, the patient's data and the parties from intake through `intake_client`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from services.reporting.documents.letters.fhir_document import render_fhir_document
from services.reporting.documents.letters.html import render_html
from services.reporting.documents.letters.medvri import render_medvri
from services.reporting.documents.letters.pdf import render_pdf
from services.reporting.domain.letters.content import LetterContent
from services.reporting.domain.letters.correction import PatientObjects
from services.reporting.handlers import EpisodeHidden, correct_letter, read_episode_letters, read_letter
from services.reporting.intake_client import UNAVAILABLE
from services.reporting.routes.dependencies import CorrectorDep, ReaderDep, Reporting
from shared.access import episode_not_found

router = APIRouter(prefix="/v1", tags=["letters"])


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


def _not_known(letter_id: uuid.UUID) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"letter {letter_id} is not known")


@router.get("/episodes/{episode_id}/letters", operation_id="list_letters", response_model=EpisodeLetters)
async def list_letters(episode_id: uuid.UUID, reader: ReaderDep) -> EpisodeLetters:
    """The letters of an episode in the order they were composed (the final letter last); and whether the
    patient's objection withholds them."""
    found = await read_episode_letters(reader.store, reader.caller, episode_id)
    if found is None:
        raise episode_not_found(episode_id)
    return EpisodeLetters(
        episode_id=episode_id,
        withheld_by_objection=found.facts.objected,
        letters=[LetterSummary(**dict(r)) for r in found.letters],
    )


async def _shown(reader: Reporting, letter_id: uuid.UUID, route: str):
    try:
        found = await read_letter(reader.store, reader.caller, letter_id, route, reader.clock)
    except EpisodeHidden as hidden:
        raise episode_not_found(hidden.episode_id) from None
    if found is None:
        raise _not_known(letter_id)
    row, facts = found
    personal, parties = await reader.intake.shown_with(row["episode_id"], facts)
    return row, LetterContent.model_validate_json(row["content"]), personal, parties


def _corrects(row: Any) -> str | None:
    return str(row["corrects"]) if row["corrects"] else None


@router.get("/letters/{letter_id}", operation_id="get_letter_html", response_class=HTMLResponse, responses=UNAVAILABLE)
async def letter_html(letter_id: uuid.UUID, reader: ReaderDep) -> Response:
    """The letter as HTML, in Dutch."""
    row, content, personal, parties = await _shown(reader, letter_id, "GET /v1/letters/{letter_id}")
    return HTMLResponse(render_html(content, personal, parties, corrects=_corrects(row)))


@router.get(
    "/letters/{letter_id}/pdf",
    operation_id="get_letter_pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF/A-2b"}, **UNAVAILABLE},
)
async def letter_pdf(letter_id: uuid.UUID, reader: ReaderDep) -> Response:
    """The letter as an archival PDF (PDF/A-2b), with the course of the scores and the graded-activity graph."""
    row, content, personal, parties = await _shown(reader, letter_id, "GET /v1/letters/{letter_id}/pdf")
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
async def letter_fhir(letter_id: uuid.UUID, reader: ReaderDep) -> Response:
    """The letter as a FHIR document (Bundle with Composition, Patient, practitioners, organization, scores)."""
    row, content, personal, parties = await _shown(reader, letter_id, "GET /v1/letters/{letter_id}/fhir")
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
async def letter_medvri(letter_id: uuid.UUID, reader: ReaderDep) -> Response:
    """The letter as an Edifact MEDVRI interchange, as GP systems receive it through ZorgMail."""
    row, content, personal, parties = await _shown(reader, letter_id, "GET /v1/letters/{letter_id}/medvri")
    text = render_medvri(content, personal, parties, letter_id=str(letter_id), composed_at=row["composed_at"])
    return Response(text.encode("ascii"), media_type="application/edifact")


@router.post(
    "/letters/{letter_id}/corrections",
    operation_id="correct_letter",
    status_code=status.HTTP_201_CREATED,
    response_model=LetterSummary,
)
async def correct(letter_id: uuid.UUID, corrector: CorrectorDep) -> LetterSummary:
    """Compose a correction from the episode's current facts; the original letter stays as it was."""
    route = "POST /v1/letters/{letter_id}/corrections"
    try:
        created = await correct_letter(corrector.store, corrector.caller, letter_id, route, corrector.clock)
    except PatientObjects:
        raise HTTPException(status.HTTP_409_CONFLICT, "the patient objects to reports to the GP") from None
    if created is None:
        raise _not_known(letter_id)
    return LetterSummary(**dict(created))
