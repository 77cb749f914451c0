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
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "taken_on": "2026-11-23",
                    "onset_date": "2026-08-01",
                    "previous_episodes": [],
                    "course": {
                        "complaints": "same",
                        "rest_moments_per_day": "increasing",
                        "analgesic_use": "continuing",
                        "activities_or_participation_resumed": False,
                        "asks_for_specialist_care": False,
                        "activities_participation_increased": False,
                    },
                    "hindering_factors": [{"kind": "fear_of_movement", "influence": "yes"}],
                    "coping": "inadequate",
                    "care_context": {
                        "weight_or_nutrition_concern": False,
                        "pain_medication_questions": True,
                        "work_problems": False,
                    },
                    "notes": "Durft niet te bukken sinds het begin van de klachten.",
                }
            ]
        },
    )

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
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "assessed_on": "2026-11-23",
                    "scope": {
                        "general_illness_signs": [],
                        "radicular_signs_suspected": False,
                        "neurological_exam": None,
                        "specific_cause_suspected": False,
                    },
                    "notes": "Beperkte flexie, geen uitstraling.",
                }
            ]
        },
    )

    assessed_on: date
    scope: clinical.ScopeFindings
    notes: FreeText = Field(default=None, max_length=8000)


class RecordMeasurement(Command):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "occasion": "evaluation",
                    "evaluation_number": 1,
                    "measurement": {
                        "taken_on": "2026-12-14",
                        "qbpds": {"items": [2, 2, 1, 1, 2, 2, 1, 1, 3, 1, 1, 2, 1, 1, 2, 2, 1, 2, 2, 3]},
                        "psk": {"scale": "0-10", "activities": [{"activity": "fietsen", "score": 5}]},
                        "nprs": 4,
                    },
                }
            ]
        },
    )

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
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "agreed_on": "2026-11-24",
                    "start_date": "2026-11-30",
                    "planned_sessions": 12,
                    "interventions": [
                        {"modality": "exercise_therapy", "main_component": True},
                        {"modality": "graded_activity", "main_component": True},
                    ],
                    "graded_activity": {
                        "start_date": "2026-11-30",
                        "days_to_goal": 42,
                        "activities": [
                            {
                                "activity": "wandelen",
                                "intensity_unit": "km/u",
                                "baseline": [{"duration_minutes": 10, "frequency_per_day": 1, "intensity": 3}],
                                "goal": {"duration_minutes": 40, "frequency_per_day": 2, "intensity": 5},
                                "threat_rank": 1,
                            }
                        ],
                    },
                    "goals": "Weer een uur wandelen met de hond.",
                }
            ]
        },
    )

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
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"session_on": "2026-11-30", "notes": "Uitleg over pijn en eerste oefeningen."}]
        },
    )

    session_on: date
    notes: FreeText = Field(default=None, max_length=8000)


class LogActivity(Command):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "day": {
                        "activity": "wandelen",
                        "on": "2026-12-01",
                        "duration_minutes": 12,
                        "frequency_per_day": 1,
                        "intensity": 3.0,
                    }
                }
            ]
        },
    )

    day: clinical.LoggedDay


class RecordReportConsent(Command):
    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"examples": [{"consent": "given", "on": "2026-11-23"}]}
    )

    consent: Literal["given", "objected"]
    on: date


class CloseEpisode(Command):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [{"closed_on": "2027-01-15", "reason": "goals_met"}]},
    )

    closed_on: date
    reason: clinical.ClosingReason
