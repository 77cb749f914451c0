"""Reporting read routes: the episode overview read model."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from shared.access import episode_not_found, require_episode_access
from shared.access_log import Access, Action, log_access
from shared.auth import Caller, Role, allow
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
    personal_data_erased: bool


@router.get("/{episode_id}", operation_id="get_reporting_episode", response_model=EpisodeOverview)
async def get_episode(
    episode_id: uuid.UUID, runtime: RuntimeDep, caller: Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)]
) -> EpisodeOverview:
    """One episode in the reporting read model (its practice and its verwijzer only)."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM episode_overview WHERE episode_id = $1", episode_id)
        if row is None:
            raise episode_not_found(episode_id)
        require_episode_access(caller, episode_id, row["practice_agb"], row["referrer_agb"])
        await log_access(
            conn,
            caller,
            Access("reporting", Action.READ, "GET /v1/episodes/{episode_id}", episode_id),
            runtime.clock.now(),
        )
    return EpisodeOverview(**dict(row))
