"""Escalation routes: the verwijzer's open escalations, and acknowledging one."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from services.notifications import escalations
from services.notifications.routes.common import SubscriberDep
from shared.service import RuntimeDep

router = APIRouter(prefix="/v1/escalations", tags=["escalations"])


class EscalationView(BaseModel):
    event_id: uuid.UUID
    episode_id: str
    raised_at: datetime
    details: dict[str, Any]
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def _view(row) -> EscalationView:
    details = row["details"]
    return EscalationView(**{**dict(row), "details": json.loads(details) if isinstance(details, str) else details})


@router.get("", operation_id="list_open_escalations", response_model=list[EscalationView])
async def list_open_escalations(runtime: RuntimeDep, caller: SubscriberDep) -> list[EscalationView]:
    """Escalations to the caller (as verwijzer) not acknowledged yet, oldest first."""
    async with runtime.pool.acquire() as conn:
        rows = await escalations.open_for(conn, caller.org)
    return [_view(r) for r in rows]


@router.post("/{event_id}/acknowledge", operation_id="acknowledge_escalation", response_model=EscalationView)
async def acknowledge_escalation(event_id: uuid.UUID, runtime: RuntimeDep, caller: SubscriberDep) -> EscalationView:
    """Mark the escalation as seen by the verwijzer; it leaves the open list (repeating changes nothing)."""
    async with runtime.pool.acquire() as conn:
        row = await escalations.acknowledge(conn, caller.org, event_id, caller.user, runtime.clock.now())
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"escalation {event_id} is not known")
    return _view(row)
