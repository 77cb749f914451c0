"""Escalation routes: the verwijzer's open escalations, and acknowledging one."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from services.notifications.routes.dependencies import SubscriberDep
from services.notifications.store import escalations

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
async def list_open_escalations(subscriber: SubscriberDep) -> list[EscalationView]:
    """Escalations to the caller (as verwijzer) not acknowledged yet, oldest first."""
    rows = await subscriber.store.run(escalations.open_for, subscriber.owner)
    return [_view(r) for r in rows]


@router.post("/{event_id}/acknowledge", operation_id="acknowledge_escalation", response_model=EscalationView)
async def acknowledge_escalation(event_id: uuid.UUID, subscriber: SubscriberDep) -> EscalationView:
    """Mark the escalation as seen by the verwijzer; it leaves the open list (repeating changes nothing)."""
    row = await subscriber.store.run(
        escalations.acknowledge, subscriber.owner, event_id, subscriber.caller.user, subscriber.clock.now()
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"escalation {event_id} is not known")
    return _view(row)
