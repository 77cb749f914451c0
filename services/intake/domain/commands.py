"""Commands a practice system sends about an open episode (imperative; validated at the boundary)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events import clinical

FreeText = str | None


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TakeHistory(Command):
    taken_on: date
    onset_date: date = Field(description="First day of the current episode of low back pain.")
    previous_episodes: tuple[clinical.PastEpisode, ...] = ()
    course: clinical.CourseObservations
    hindering_factors: tuple[clinical.HinderingFactor, ...] = ()
    coping: clinical.Coping | None = None
    care_context: clinical.CareContext
    notes: FreeText = Field(default=None, max_length=8000, description="Free text; stored sealed.")

    @model_validator(mode="after")
    def _onset_before_history(self) -> TakeHistory:
        if self.onset_date > self.taken_on:
            raise ValueError("onset_date lies after taken_on")
        return self


class CompleteAssessment(Command):
    assessed_on: date
    scope: clinical.ScopeFindings
    notes: FreeText = Field(default=None, max_length=8000)


class RecordMeasurement(Command):
    occasion: Literal["intake", "evaluation"]
    evaluation_number: int | None = Field(default=None, ge=1)
    measurement: clinical.Measurement

    @model_validator(mode="after")
    def _evaluation_has_number(self) -> RecordMeasurement:
        if (self.occasion == "evaluation") != (self.evaluation_number is not None):
            raise ValueError("evaluation_number is required for an evaluation and only then")
        m = self.measurement
        if m.qbpds is None and m.psk is None and m.nprs is None and m.start_back is None:
            raise ValueError("a measurement needs at least one instrument")
        return self


class AgreeTreatmentPlan(Command):
    agreed_on: date
    start_date: date
    planned_sessions: int | None = Field(default=None, ge=1, le=200)
    interventions: tuple[clinical.PlannedIntervention, ...] = ()
    graded_activity: clinical.GradedActivityProgramme | None = None
    goals: FreeText = Field(default=None, max_length=8000, description="The individual goals; stored sealed.")
    deviation_arguments: FreeText = Field(default=None, max_length=8000, description="Why deviating; sealed.")

    @model_validator(mode="after")
    def _deviation_is_argued(self) -> AgreeTreatmentPlan:
        if any(i.deviation_argued for i in self.interventions) and not (self.deviation_arguments or "").strip():
            raise ValueError("deviation_arguments: a deviation from the guideline must be argued")
        return self


class RecordSession(Command):
    session_on: date
    notes: FreeText = Field(default=None, max_length=8000)


class LogActivity(Command):
    day: clinical.LoggedDay


class RecordReportConsent(Command):
    consent: Literal["given", "objected"]
    on: date


class CloseEpisode(Command):
    closed_on: date
    reason: clinical.ClosingReason
