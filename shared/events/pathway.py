"""Payloads of the events the pathway service produces (topic `pathway.events`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.events.payload import EventPayload, event_type
from shared.events.topics import PATHWAY_EVENTS


class PathwayEvent(EventPayload):
    topic: ClassVar[str] = PATHWAY_EVENTS


class EvaluationScheduled(PathwayEvent):
    """An evaluation of the episode was planned; a durable timer will raise `EvaluationDue` at `due_at`."""

    event_type: ClassVar[str] = event_type("pathway", "EvaluationScheduled")
    event_version: ClassVar[int] = 1

    timer_id: uuid.UUID
    evaluation_number: int = Field(ge=1, description="1 for the first evaluation, 2 for the next, …")
    due_at: datetime = Field(description="When the evaluation falls due (three weeks of treatment).")
