"""Payloads of the events the pathway service produces (topic `pathway.events`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
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


class EvaluationDue(PathwayEvent):
    """A planned evaluation fell due: the physiotherapist evaluates now (fired once by the durable timer)."""

    event_type: ClassVar[str] = event_type("pathway", "EvaluationDue")
    event_version: ClassVar[int] = 1

    timer_id: uuid.UUID
    evaluation_number: int = Field(ge=1)
    due_at: datetime = Field(description="When it was planned to fall due.")
    fired_at: datetime = Field(description="When the scheduler fired it (later than due_at after downtime).")
    overdue_after: datetime = Field(description="When, without a recorded evaluation, it becomes overdue.")


class EvaluationOverdue(PathwayEvent):
    """An evaluation that fell due was not recorded within the grace period; the network sees these."""

    event_type: ClassVar[str] = event_type("pathway", "EvaluationOverdue")
    event_version: ClassVar[int] = 1

    timer_id: uuid.UUID
    evaluation_number: int = Field(ge=1)
    due_at: datetime
    overdue_since: datetime


class EscalationReason(StrEnum):
    """Why the physiotherapist contacts the verwijzer (KNGF: "neemt contact op met de verwijzer")."""

    NO_PROGRESS_AFTER_THREE_WEEKS = "no_progress_after_three_weeks"
    RADICULAR_SIGNS = "radicular_signs"
    GENERAL_ILLNESS_SIGNS = "general_illness_signs"
    SUSPECTED_SPECIFIC_CAUSE = "suspected_specific_cause"
    INCOMPLETE_REFERRAL = "incomplete_referral"
    FACTORS_BEYOND_PHYSIOTHERAPY = "factors_beyond_physiotherapy"


class EscalatedToReferrer(PathwayEvent):
    """The guideline says to contact the verwijzer about this episode; the referrer should see it first."""

    event_type: ClassVar[str] = event_type("pathway", "EscalatedToReferrer")
    event_version: ClassVar[int] = 1

    reason: EscalationReason
    decision_code: str = Field(description="The guideline engine's machine-readable reason code.")
    explanation_nl: str = Field(description="The decision's reason in Dutch, as the referrer reads it.")
    explanation_en: str
    guideline_section: str = Field(description='The guideline section it rests on, e.g. "II.III Evaluatie".')
    referrer_agb: str | None = Field(default=None, pattern=r"^\d{8}$", description="The verwijzer to contact.")
