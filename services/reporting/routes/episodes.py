"""Reporting read routes: the episode overview read model (HTTP ↔ `handlers.read_overview`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from services.reporting.handlers import read_overview
from services.reporting.routes.dependencies import ReaderDep
from shared.access import episode_not_found

router = APIRouter(prefix="/v1/episodes", tags=["episodes"])


class EpisodeOverview(BaseModel):
    episode_id: uuid.UUID
    practice_agb: str | None
    referrer_agb: str | None
    route: str | None
    referred_on: date | None
    next_evaluation_due: datetime | None
    evaluations_scheduled: int
    last_event_type: str
    last_event_at: datetime
    personal_data_erased: bool


@router.get("/{episode_id}", operation_id="get_reporting_episode", response_model=EpisodeOverview)
async def get_episode(episode_id: uuid.UUID, reader: ReaderDep) -> EpisodeOverview:
    """One episode in the reporting read model (its practice and its verwijzer only)."""
    row = await read_overview(reader.store, reader.caller, episode_id, "GET /v1/episodes/{episode_id}", reader.clock)
    if row is None:
        raise episode_not_found(episode_id)
    return EpisodeOverview(**dict(row))
