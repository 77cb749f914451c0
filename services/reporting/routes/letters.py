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
from services.reporting.letters.render import render_fhir, render_html, render_pdf
from shared.access import episode_not_found, require_episode_access
from shared.access_log import Access, Action, log_access
from shared.auth import Caller, Role, allow, service_headers
from shared.logging import get_logger
from shared.service import Runtime, RuntimeDep
from shared.store.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["letters"])
log = get_logger(__name__)
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


async def _personal(runtime: Runtime, episode_id: uuid.UUID) -> dict[str, Any] | None:
    """The patient's name, birth date and goals from intake; None once erased (or intake unreachable)."""
    intake = runtime.settings.peer_urls.get("intake")
    if intake is None:
        return None
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(
                f"{intake}/v1/episodes/{episode_id}/letter-data",
                headers=service_headers(runtime.settings.jwt_secret, "reporting"),
            )
    except httpx.HTTPError as error:
        log.warning("letters.intake_unreachable", error=repr(error))
        return None
    return response.json() if response.status_code == 200 else None


@router.get("/episodes/{episode_id}/letters", operation_id="list_letters", response_model=EpisodeLetters)
async def list_letters(episode_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> EpisodeLetters:
    """The letters of an episode, oldest first; and whether the patient's objection withholds them."""
    async with runtime.pool.acquire() as conn:
        facts = await _facts(conn, episode_id)
        if facts is None:
            raise episode_not_found(episode_id)
        require_episode_access(caller, episode_id, facts.practice_agb, facts.referrer_agb)
        rows = await conn.fetch(
            f"SELECT {_SUMMARY} FROM letters WHERE episode_id = $1 ORDER BY composed_at, letter_key",
            episode_id,
        )
    return EpisodeLetters(
        episode_id=episode_id,
        withheld_by_objection=facts.objected,
        letters=[LetterSummary(**dict(r)) for r in rows],
    )


@router.get("/letters/{letter_id}", operation_id="get_letter_html", response_class=HTMLResponse)
async def letter_html(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> HTMLResponse:
    """The letter as HTML, in Dutch."""
    row, facts = await _letter(runtime, caller, letter_id, "GET /v1/letters/{letter_id}")
    content = LetterContent.model_validate_json(row["content"])
    html = render_html(
        content,
        await _personal(runtime, row["episode_id"]),
        practice_agb=facts.practice_agb,
        referrer_agb=facts.referrer_agb,
        corrects=str(row["corrects"]) if row["corrects"] else None,
    )
    return HTMLResponse(html)


@router.get("/letters/{letter_id}/pdf", operation_id="get_letter_pdf", response_class=Response)
async def letter_pdf(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> Response:
    """The letter as PDF, with the course of the measurements and the graded-activity graph."""
    row, _ = await _letter(runtime, caller, letter_id, "GET /v1/letters/{letter_id}/pdf")
    content = LetterContent.model_validate_json(row["content"])
    pdf = render_pdf(content, await _personal(runtime, row["episode_id"]))
    return Response(pdf, media_type="application/pdf")


@router.get("/letters/{letter_id}/fhir", operation_id="get_letter_fhir")
async def letter_fhir(letter_id: uuid.UUID, runtime: RuntimeDep, caller: ReaderDep) -> JSONResponse:
    """The letter as a FHIR R4 Composition."""
    row, facts = await _letter(runtime, caller, letter_id, "GET /v1/letters/{letter_id}/fhir")
    document = render_fhir(
        LetterContent.model_validate_json(row["content"]),
        letter_id=str(letter_id),
        episode_id=str(row["episode_id"]),
        practice_agb=facts.practice_agb,
        referrer_agb=facts.referrer_agb,
        composed_at=row["composed_at"],
        corrects=str(row["corrects"]) if row["corrects"] else None,
    )
    return JSONResponse(document, media_type="application/fhir+json")


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
