"""Open escalations: episodes where the guideline says to contact the verwijzer, not yet closed."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from shared.auth import Caller, Role, allow
from shared.service import RuntimeDep

router = APIRouter(prefix="/v1/escalations", tags=["escalations"])


class OpenEscalation(BaseModel):
    episode_id: uuid.UUID
    reason: str
    section: str
    explanation_nl: str
    at: datetime


@router.get("", operation_id="list_open_escalations", response_model=list[OpenEscalation])
async def list_open(
    runtime: RuntimeDep, caller: Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)]
) -> list[OpenEscalation]:
    """Escalations in the caller's open episodes: the practice's own, or those the verwijzer referred."""
    column = "practice_agb" if caller.role is Role.PRACTICE else "referrer_agb"
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT v.episode_id, v.escalations::text AS escalations FROM episode_view v"
            f" JOIN episode_parties p USING (episode_id)"
            f" WHERE p.{column} = $1 AND jsonb_array_length(v.escalations) > 0"
            f" AND NOT EXISTS (SELECT 1 FROM timer_episodes_closed c WHERE c.episode_id = v.episode_id)"
            f" ORDER BY v.last_event_at",
            caller.org,
        )
    return [
        OpenEscalation(
            episode_id=row["episode_id"],
            reason=e["reason"],
            section=e["section"],
            explanation_nl=e["explanation_nl"],
            at=e["at"],
        )
        for row in rows
        for e in json.loads(row["escalations"])
    ]
