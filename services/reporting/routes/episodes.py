"""Reporting read routes: the episode overview read model."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from shared.service import RuntimeDep

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


@router.get("/{episode_id}", operation_id="get_reporting_episode", response_model=EpisodeOverview)
async def get_episode(episode_id: uuid.UUID, runtime: RuntimeDep) -> EpisodeOverview:
    """One episode in the reporting read model."""
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM episode_overview WHERE episode_id = $1", episode_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"episode {episode_id} is not in the read model")
    return EpisodeOverview(**dict(row))
