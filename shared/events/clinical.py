"""Clinical findings as intake records them: the structured parts of history, examination, measurements
and plan that travel in intake's events. Values mirror the guideline engine's vocabulary (a contract test
keeps them equal); free text never appears here — it travels sealed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Trend = Literal["decreasing", "same", "increasing"]
AnalgesicUse = Literal["none", "stopped", "decreasing", "continuing", "increasing"]
GeneralIllnessSign = Literal["fever", "weight_loss", "other"]
FactorKind = Literal[
    "reduced_mobility",
    "reduced_muscle_strength",
    "reduced_coordination",
    "other_biological",
    "fear_of_movement",
    "unrealistic_beliefs",
    "other_psychological",
    "work_situation",
    "support_at_home",
    "other_social",
]
PhysiotherapyInfluence = Literal["yes", "partly", "no"]
Coping = Literal["adequate", "inadequate"]
Modality = Literal[
    "information_advice",
    "practising_functions_activities",
    "exercise_therapy",
    "exercise_in_water",
    "graded_activity",
    "traction",
    "biofeedback",
    "massage",
    "electrotherapy",
    "tens",
    "ultrasound",
    "laser",
    "manual_therapy",
]
PskScale = Literal["0-10", "0-100"]
Bothersomeness = Literal["not_at_all", "slightly", "moderately", "very_much", "extremely"]
ClosingReason = Literal["goals_met", "patient_stops", "escalated_to_verwijzer"]
Label = Annotated[str, Field(min_length=1, max_length=100)]


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PastEpisode(Finding):
    onset_date: date
    end_date: date


class CourseObservations(Finding):
    """The five indications of a deviating course and the three-week observation (KNGF I.IV)."""

    complaints: Trend
    rest_moments_per_day: Trend
    analgesic_use: AnalgesicUse
    activities_or_participation_resumed: bool
    asks_for_specialist_care: bool
    activities_participation_increased: bool


class HinderingFactor(Finding):
    kind: FactorKind
    influence: PhysiotherapyInfluence


class CareContext(Finding):
    weight_or_nutrition_concern: bool
    pain_medication_questions: bool
    work_problems: bool


class NeurologicalExam(Finding):
    lasegue_positive: bool
    muscle_strength_reduced: bool
    sensibility_disturbed: bool
    tendon_reflexes_abnormal: bool


class ScopeFindings(Finding):
    general_illness_signs: tuple[GeneralIllnessSign, ...]
    radicular_signs_suspected: bool
    neurological_exam: NeurologicalExam | None
    specific_cause_suspected: bool


class QbpdsAnswers(Finding):
    items: tuple[Annotated[int, Field(ge=0, le=5)] | None, ...] = Field(min_length=20, max_length=20)


class PskActivityScore(Finding):
    activity: Label = Field(description="A short activity label (e.g. 'fietsen'), not free text.")
    score: int = Field(ge=0, le=100)


class PskAnswers(Finding):
    scale: PskScale
    activities: tuple[PskActivityScore, ...] = Field(min_length=1, max_length=5)


class StartBackAnswers(Finding):
    agreed_items_1_to_8: tuple[bool, ...] = Field(min_length=8, max_length=8)
    item_9_bothersomeness: Bothersomeness


class Measurement(Finding):
    taken_on: date
    qbpds: QbpdsAnswers | None = None
    psk: PskAnswers | None = None
    nprs: int | None = Field(default=None, ge=0, le=10)
    start_back: StartBackAnswers | None = None


class ActivityLevel(Finding):
    duration_minutes: float = Field(ge=0, le=24 * 60)
    frequency_per_day: int = Field(ge=0, le=100)
    intensity: float = Field(ge=0)


class GradedActivity(Finding):
    activity: Label
    intensity_unit: Label
    baseline: tuple[ActivityLevel, ...] = Field(min_length=1)
    goal: ActivityLevel
    threat_rank: int | None = Field(default=None, ge=1)


class GradedActivityProgramme(Finding):
    start_date: date
    days_to_goal: int = Field(ge=1, le=365)
    activities: tuple[GradedActivity, ...] = Field(min_length=1, max_length=10)


class PlannedIntervention(Finding):
    modality: Modality
    main_component: bool
    deviation_argued: bool = Field(
        default=False, description="A deliberate, argued deviation from the guideline; the argument travels sealed."
    )


class LoggedDay(Finding):
    activity: Label
    on: date
    duration_minutes: float = Field(ge=0, le=24 * 60)
    frequency_per_day: int = Field(ge=0, le=100)
    intensity: float = Field(ge=0)
