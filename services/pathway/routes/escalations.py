"""Open escalations: episodes where the guideline says to contact the verwijzer, not yet closed (HTTP ↔
`handlers.open_escalations`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from services.pathway.handlers import open_escalations
from services.pathway.routes.dependencies import ReaderDep

router = APIRouter(prefix="/v1/escalations", tags=["escalations"])


class OpenEscalation(BaseModel):
    episode_id: uuid.UUID
    reason: str
    section: str
    explanation_nl: str
    at: datetime


@router.get("", operation_id="list_open_escalations", response_model=list[OpenEscalation])
async def list_open(reader: ReaderDep) -> list[OpenEscalation]:
    """Escalations in the caller's open episodes: the practice's own, or those the verwijzer referred."""
    return [
        OpenEscalation(
            episode_id=episode_id,
            reason=e["reason"],
            section=e["section"],
            explanation_nl=e["explanation_nl"],
            at=e["at"],
        )
        for episode_id, escalations in await open_escalations(reader.store, reader.caller)
        for e in escalations
    ]
