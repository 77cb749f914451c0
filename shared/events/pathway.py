"""Payloads of the events the pathway service produces (topic `pathway.events`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class GuidelineReason(BaseModel):
    """Why the engine decided so: its reason code, the reason in Dutch and English, and the section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(description="Machine-readable reason code of the guideline engine.")
    reason_nl: str
    reason_en: str
    section: str = Field(description='The guideline section, e.g. "II.III Evaluatie".')


class BeloopClassified(PathwayEvent):
    """The course (beloop) was classified: normaal, afwijkend, or not yet classifiable (null) before three
    weeks of observation; with the duration class and whether the complaints are recurrent."""

    event_type: ClassVar[str] = event_type("pathway", "BeloopClassified")
    event_version: ClassVar[int] = 1

    beloop: Literal["normaal", "afwijkend"] | None = Field(description="null: not yet classifiable.")
    classifiable_on: date = Field(description="First day on which the course can be classified.")
    duration_class: Literal["acute", "subacute", "chronic"]
    recurrent: bool
    indications: tuple[str, ...] = Field(description="Reason codes of the indications of a deviating course seen.")
    decided_on: date
    reason: GuidelineReason


class FlaggedModality(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    modality: str
    advice: str = Field(description="not_advised, effect_unknown, chronic_only or not_covered.")
    severity: str
    reason: GuidelineReason


class TreatmentPlanProposed(PathwayEvent):
    """What the guideline proposes for this course and duration, and remarks on the planned interventions."""

    event_type: ClassVar[str] = event_type("pathway", "TreatmentPlanProposed")
    event_version: ClassVar[int] = 1

    physiotherapy_indicated: bool | None
    fits_guideline: bool | None
    components: tuple[str, ...]
    not_advised: tuple[str, ...]
    max_sessions: int | None
    check_up_on: date | None
    flagged_modalities: tuple[FlaggedModality, ...] = Field(description="Planned interventions the guideline flags.")
    decided_on: date
    reason: GuidelineReason


class EvaluationCompleted(PathwayEvent):
    """An evaluation was measured and judged against the start: did activities and participation increase?"""

    event_type: ClassVar[str] = event_type("pathway", "EvaluationCompleted")
    event_version: ClassVar[int] = 1

    evaluation_number: int = Field(ge=1)
    activities_participation_increased: bool | None
    treatment_days: int | None
    escalate_to_verwijzer: bool
    next_evaluation_due: date | None
    decided_on: date
    reason: GuidelineReason


class ConsultRequested(PathwayEvent):
    """A proposal (never automatic) to involve another discipline, with the reason (seed 000)."""

    event_type: ClassVar[str] = event_type("pathway", "ConsultRequested")
    event_version: ClassVar[int] = 1

    discipline: Literal["huisarts", "apotheker", "dietist", "poh_ggz", "bedrijfsarts"]
    decided_on: date
    reason: GuidelineReason


class ProtocolAdopted(PathwayEvent):
    """The regional network adopted a version of its protocol: its values for the choices the guideline leaves to
    it, on one guideline version, for every decision from `effective_from` on. A network-wide event: its subject is
    the network's protocol stream, not an episode."""

    event_type: ClassVar[str] = event_type("pathway", "ProtocolAdopted")
    event_version: ClassVar[int] = 1
    about_episode: ClassVar[bool] = False

    protocol_version: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    guideline_version: str
    title: str = Field(max_length=200)
    evaluation_interval_days: int = Field(ge=1)
    overdue_grace_days: int = Field(ge=0)
    no_effect_escalation_days: int = Field(ge=1)
    normal_course_max_sessions: int = Field(ge=1)
    effective_from: date
    adopted_by: str = Field(description="The network organisation that adopted it.")
