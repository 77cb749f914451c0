"""The facts of one episode that the engine decides on: the request body of the guideline endpoint.

Every clinical finding is a required field: leaving one out is a validation error, because a missing
"no fever" must never silently read as "no fever". Only things that may genuinely not have happened yet
(measurements, a treatment, a closing) may be absent.
"""

from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .decisions import FrozenModel
from .vocabulary import (
    AnalgesicUse,
    Bothersomeness,
    ClosingReason,
    Coping,
    FactorKind,
    GeneralIllnessSign,
    Modality,
    PhysiotherapyInfluence,
    PskScale,
    ReportConsent,
    Trend,
    Verwijzer,
)

QBPDS_ITEM_COUNT = 20
START_BACK_AGREE_ITEMS = 8
PSK_MAX_ACTIVITIES = 5
PSK_SCALE_MAX = {PskScale.NRS_0_10: 10, PskScale.VAS_0_100: 100}

QbpdsItem = Annotated[int, Field(ge=0, le=5)]
Label = Annotated[str, Field(min_length=1, max_length=100)]


def field_error(loc: tuple[str | int, ...], message: str, value: Any) -> InitErrorDetails:
    """One validation error at a precise location, so the caller sees which field is wrong."""
    return InitErrorDetails(type=PydanticCustomError("guideline_fact", message), loc=loc, input=value)


def raise_field_errors(model: str, errors: list[InitErrorDetails]) -> None:
    if errors:
        raise ValidationError.from_exception_data(model, errors)


class PastEpisode(FrozenModel):
    """An earlier, finished episode of low back pain."""

    onset_date: date = Field(description="First day of that episode.", examples=["2023-09-04"])
    end_date: date = Field(description="Last day with complaints of that episode.", examples=["2023-10-02"])

    @field_validator("end_date")
    @classmethod
    def _end_not_before_onset(cls, end_date: date, info: Any) -> date:
        onset = info.data.get("onset_date")
        if onset is not None and end_date < onset:
            raise PydanticCustomError("guideline_fact", "end_date lies before onset_date")
        return end_date


class Referral(FrozenModel):
    """What the referral letter (verwijsbrief) contains; the engine needs presence, not the text."""

    verwijzer: Verwijzer = Field(description="Who referred the patient (verwijzer).", examples=["huisarts"])
    request_for_help_stated: bool = Field(description="The patient's request for help (hulpvraag) is stated.")
    reason_for_referral_stated: bool = Field(description="The reason for referral (verwijsreden) is stated.")
    course_of_functioning_stated: bool = Field(
        description="The course of functioning (activities and participation) is described."
    )
    additional_examinations_stated: bool = Field(
        description="Data on additional examinations (aanvullend onderzoek) are given."
    )
    prognosis_stated: bool = Field(description="A prognosis is given.")


class NeurologicalExam(FrozenModel):
    """Result of the neurological exam done when radicular signs are suspected (I.III)."""

    lasegue_positive: bool = Field(description="Lasègue test positive.")
    muscle_strength_reduced: bool = Field(description="Reduced strength in the muscles of the spinal nerve.")
    sensibility_disturbed: bool = Field(description="Disturbed sensibility in the dermatome.")
    tendon_reflexes_abnormal: bool = Field(description="Abnormal tendon reflexes.")

    @property
    def positive(self) -> bool:
        return (
            self.lasegue_positive
            or self.muscle_strength_reduced
            or self.sensibility_disturbed
            or self.tendon_reflexes_abnormal
        )


class ScopeFindings(FrozenModel):
    """Findings that decide whether the complaints are aspecific low back pain."""

    general_illness_signs: tuple[GeneralIllnessSign, ...] = Field(
        description="General signs of illness present (empty when none).", examples=[[], ["fever"]]
    )
    radicular_signs_suspected: bool = Field(description="History suggests radicular radiation.")
    neurological_exam: NeurologicalExam | None = Field(description="Neurological exam result; null when not performed.")
    specific_cause_suspected: bool = Field(
        description="The physiotherapist suspects a specific cause, e.g. because complaints change over time."
    )

    @field_validator("general_illness_signs")
    @classmethod
    def _signs_unique(cls, signs: tuple[GeneralIllnessSign, ...]) -> tuple[GeneralIllnessSign, ...]:
        if len(set(signs)) != len(signs):
            raise PydanticCustomError("guideline_fact", "general_illness_signs lists a sign twice")
        return signs


class CourseObservations(FrozenModel):
    """What happened to complaints and functioning over the complaint period (I.IV indications)."""

    complaints: Trend = Field(description="Complaints decrease, stay the same or increase.")
    rest_moments_per_day: Trend = Field(description="Number of rest moments per day.")
    analgesic_use: AnalgesicUse = Field(description="Use of analgesics.")
    activities_or_participation_resumed: bool = Field(
        description="Activities and/or participation have been resumed at least partly."
    )
    asks_for_specialist_care: bool = Field(
        description="The patient explicitly asks for medical-specialist examination and treatment."
    )
    activities_participation_increased: bool = Field(
        description="Activities and participation increased within the last three weeks."
    )


class HinderingFactor(FrozenModel):
    """A biopsychosocial factor that causes or maintains a deviating course."""

    kind: FactorKind = Field(description="Which factor.", examples=["fear_of_movement"])
    influence: PhysiotherapyInfluence = Field(
        description="Can physiotherapy influence it: yes, partly, or no.", examples=["yes"]
    )


class CareContext(FrozenModel):
    """Circumstances that may call for another discipline (multidisciplinary care, seed 000)."""

    weight_or_nutrition_concern: bool = Field(
        description="Overweight or a nutrition problem plays a role (not unintended weight loss)."
    )
    pain_medication_questions: bool = Field(description="The patient has questions about pain medication.")
    work_problems: bool = Field(description="The patient has problems at work related to the back pain.")


class QbpdsAnswers(FrozenModel):
    """Quebec Back Pain Disability Scale answers: 20 items 0-5, null for an unanswered item."""

    items: tuple[QbpdsItem | None, ...] = Field(
        min_length=QBPDS_ITEM_COUNT,
        max_length=QBPDS_ITEM_COUNT,
        description="Item scores in questionnaire order (0 = not difficult ... 5 = unable); null = missing.",
        examples=[[2, 3, 2, 1, 3, 3, 2, 2, 4, 1, 1, 4, 1, 2, 3, 3, 2, 3, 3, 4]],
    )


class PskActivityScore(FrozenModel):
    """One activity the patient chose for the PSK, with its difficulty score."""

    activity: Label = Field(description="The activity, in the patient's words.", examples=["fietsen"])
    score: int = Field(ge=0, description="Difficulty; 0 = no difficulty, scale maximum = impossible.")


class PskAnswers(FrozenModel):
    """Patiënt Specifieke Klachten: up to three (some versions five) patient-chosen activities."""

    scale: PskScale = Field(description="0-10 (NRS) or 0-100 (VAS in mm).", examples=["0-10"])
    activities: tuple[PskActivityScore, ...] = Field(
        min_length=1, max_length=PSK_MAX_ACTIVITIES, description="The chosen activities (1 to 5)."
    )

    @model_validator(mode="after")
    def _scores_fit_scale(self) -> "PskAnswers":
        errors: list[InitErrorDetails] = []
        maximum = PSK_SCALE_MAX[self.scale]
        seen: set[str] = set()
        for index, item in enumerate(self.activities):
            if item.score > maximum:
                errors.append(
                    field_error(
                        ("activities", index, "score"),
                        f"score {item.score} exceeds the maximum {maximum} of scale {self.scale.value}",
                        item.score,
                    )
                )
            key = item.activity.strip().casefold()
            if key in seen:
                errors.append(field_error(("activities", index, "activity"), "activity is listed twice", item.activity))
            seen.add(key)
        raise_field_errors(type(self).__name__, errors)
        return self


class StartBackAnswers(FrozenModel):
    """STarT Back Screening Tool answers."""

    agreed_items_1_to_8: tuple[bool, ...] = Field(
        min_length=START_BACK_AGREE_ITEMS,
        max_length=START_BACK_AGREE_ITEMS,
        description="Items 1-8 in order; true = agree.",
        examples=[[True, False, True, False, True, True, False, False]],
    )
    item_9_bothersomeness: Bothersomeness = Field(
        description="Item 9: how bothersome the back pain was in the last two weeks.", examples=["moderately"]
    )


class Measurement(FrozenModel):
    """Instruments taken on one day (at intake or at an evaluation)."""

    taken_on: date = Field(description="Day of measurement.", examples=["2024-05-27"])
    qbpds: QbpdsAnswers | None = Field(default=None, description="QBPDS answers, if taken.")
    psk: PskAnswers | None = Field(default=None, description="PSK answers, if taken.")
    nprs: int | None = Field(default=None, ge=0, le=10, description="Pain intensity 0-10, if taken.")
    start_back: StartBackAnswers | None = Field(default=None, description="STarT Back answers, if taken.")

    @model_validator(mode="after")
    def _has_an_instrument(self) -> "Measurement":
        if self.qbpds is None and self.psk is None and self.nprs is None and self.start_back is None:
            raise_field_errors(
                type(self).__name__,
                [field_error(("qbpds",), "a measurement needs at least one instrument", None)],
            )
        return self


class ActivityLevel(FrozenModel):
    """A level of one activity: how long, how often a day, and how hard."""

    duration_minutes: float = Field(ge=0, le=24 * 60, description="Minutes per bout.", examples=[10])
    frequency_per_day: int = Field(ge=0, le=100, description="Bouts per day.", examples=[2])
    intensity: float = Field(ge=0, description="Intensity in the activity's unit.", examples=[1.0])


class GradedActivity(FrozenModel):
    """One activity of a time-contingent graded-activity programme."""

    activity: Label = Field(description="The activity, e.g. 'wandelen'.", examples=["wandelen"])
    intensity_unit: Label = Field(description="Unit of intensity, e.g. 'km/u' or 'kg'.", examples=["km/u"])
    baseline: tuple[ActivityLevel, ...] = Field(
        min_length=1, description="Measured current levels; their average is the baseline (basislijn)."
    )
    goal: ActivityLevel = Field(description="The level the patient wants to reach (doel).")
    threat_rank: int | None = Field(
        default=None,
        ge=1,
        description="How threatening the patient finds it (1 = least); required with fear of movement.",
    )

    @model_validator(mode="after")
    def _goal_builds_up(self) -> "GradedActivity":
        count = len(self.baseline)
        means = {
            "duration_minutes": sum(b.duration_minutes for b in self.baseline) / count,
            "frequency_per_day": sum(b.frequency_per_day for b in self.baseline) / count,
            "intensity": sum(b.intensity for b in self.baseline) / count,
        }
        errors = [
            field_error(
                ("goal", name),
                f"goal {getattr(self.goal, name)} lies below the baseline average {mean:g}",
                getattr(self.goal, name),
            )
            for name, mean in means.items()
            if getattr(self.goal, name) < mean
        ]
        if not errors and all(getattr(self.goal, name) == mean for name, mean in means.items()):
            errors.append(field_error(("goal",), "goal equals the baseline; nothing to build up", None))
        raise_field_errors(type(self).__name__, errors)
        return self


class LoggedDay(FrozenModel):
    """What the patient actually did on one day for one activity (from the patient's log)."""

    activity: Label = Field(description="Activity name as in the programme.", examples=["wandelen"])
    on: date = Field(description="The day.", examples=["2024-06-03"])
    duration_minutes: float = Field(ge=0, le=24 * 60, description="Minutes per bout done.")
    frequency_per_day: int = Field(ge=0, le=100, description="Bouts done that day.")
    intensity: float = Field(ge=0, description="Intensity done, in the activity's unit.")


class GradedActivityPlan(FrozenModel):
    """A graded-activity programme: activities with baseline and goal, and the patient's log."""

    start_date: date = Field(description="First day of the schedule.", examples=["2024-06-03"])
    days_to_goal: int = Field(
        ge=1, le=365, description="Agreed number of days to go from baseline to goal.", examples=[28]
    )
    activities: tuple[GradedActivity, ...] = Field(min_length=1, max_length=10)
    logged_days: tuple[LoggedDay, ...] = Field(default=(), description="Days the patient logged.")

    @model_validator(mode="after")
    def _log_matches_programme(self) -> "GradedActivityPlan":
        errors: list[InitErrorDetails] = []
        names: set[str] = set()
        for index, activity in enumerate(self.activities):
            if activity.activity in names:
                errors.append(
                    field_error(("activities", index, "activity"), "activity is listed twice", activity.activity)
                )
            names.add(activity.activity)
        logged: set[tuple[str, date]] = set()
        for index, day in enumerate(self.logged_days):
            if day.activity not in names:
                errors.append(
                    field_error(("logged_days", index, "activity"), "activity is not in the programme", day.activity)
                )
            if day.on < self.start_date:
                errors.append(
                    field_error(("logged_days", index, "on"), "day lies before the programme start_date", day.on)
                )
            if (day.activity, day.on) in logged:
                errors.append(
                    field_error(("logged_days", index, "on"), "this activity is logged twice for the day", day.on)
                )
            logged.add((day.activity, day.on))
        raise_field_errors(type(self).__name__, errors)
        return self


class PlannedIntervention(FrozenModel):
    """One intervention in the treatment plan."""

    modality: Modality = Field(description="The intervention.", examples=["exercise_therapy"])
    main_component: bool = Field(description="Whether it is a main component of the treatment.")
    deviation_rationale: str | None = Field(
        default=None,
        min_length=1,
        description="Argued reason when this deliberately deviates from the guideline (section D).",
    )


class TreatmentFacts(FrozenModel):
    """The treatment as planned and started."""

    start_date: date = Field(description="First treatment session.", examples=["2024-05-27"])
    planned_sessions: int | None = Field(default=None, ge=1, description="Number of sessions planned.")
    interventions: tuple[PlannedIntervention, ...] = Field(default=(), description="Planned interventions.")
    graded_activity: GradedActivityPlan | None = Field(default=None, description="Graded-activity programme.")

    @model_validator(mode="after")
    def _modalities_unique(self) -> "TreatmentFacts":
        seen: set[Modality] = set()
        errors: list[InitErrorDetails] = []
        for index, item in enumerate(self.interventions):
            if item.modality in seen:
                errors.append(
                    field_error(("interventions", index, "modality"), "modality is listed twice", item.modality)
                )
            seen.add(item.modality)
        raise_field_errors(type(self).__name__, errors)
        return self


class ClosingFacts(FrozenModel):
    """How and when the treatment ends, and the patient's answer about the GP report."""

    reason: ClosingReason = Field(description="Why treatment ends.", examples=["goals_met"])
    closed_on: date = Field(description="Last day of treatment.", examples=["2024-07-15"])
    gp_report_consent: ReportConsent = Field(
        description="Whether the patient consents to the report to the GP or objects.", examples=["given"]
    )


EXAMPLE_ACUTE_NORMAL: dict[str, Any] = {
    "decision_date": "2024-03-25",
    "onset_date": "2024-03-01",
    "referral": {
        "verwijzer": "huisarts",
        "request_for_help_stated": True,
        "reason_for_referral_stated": True,
        "course_of_functioning_stated": True,
        "additional_examinations_stated": True,
        "prognosis_stated": True,
    },
    "previous_episodes": [],
    "scope": {
        "general_illness_signs": [],
        "radicular_signs_suspected": False,
        "neurological_exam": None,
        "specific_cause_suspected": False,
    },
    "course": {
        "complaints": "decreasing",
        "rest_moments_per_day": "decreasing",
        "analgesic_use": "stopped",
        "activities_or_participation_resumed": True,
        "asks_for_specialist_care": False,
        "activities_participation_increased": True,
    },
    "hindering_factors": [],
    "coping": "adequate",
    "care_context": {
        "weight_or_nutrition_concern": False,
        "pain_medication_questions": False,
        "work_problems": False,
    },
    "measurements": [
        {
            "taken_on": "2024-03-25",
            "qbpds": {"items": [1, 1, 1, 0, 2, 1, 1, 1, 2, 0, 0, 2, 0, 1, 1, 2, 1, 1, 2, 2]},
            "nprs": 3,
        }
    ],
}

EXAMPLE_CHRONIC_DEVIATING: dict[str, Any] = {
    "decision_date": "2024-06-20",
    "onset_date": "2024-01-10",
    "referral": {
        "verwijzer": "huisarts",
        "request_for_help_stated": True,
        "reason_for_referral_stated": True,
        "course_of_functioning_stated": True,
        "additional_examinations_stated": False,
        "prognosis_stated": False,
    },
    "previous_episodes": [{"onset_date": "2023-09-04", "end_date": "2023-10-02"}],
    "scope": {
        "general_illness_signs": [],
        "radicular_signs_suspected": False,
        "neurological_exam": None,
        "specific_cause_suspected": False,
    },
    "course": {
        "complaints": "same",
        "rest_moments_per_day": "increasing",
        "analgesic_use": "continuing",
        "activities_or_participation_resumed": True,
        "asks_for_specialist_care": False,
        "activities_participation_increased": False,
    },
    "hindering_factors": [
        {"kind": "fear_of_movement", "influence": "yes"},
        {"kind": "work_situation", "influence": "partly"},
    ],
    "coping": "inadequate",
    "care_context": {
        "weight_or_nutrition_concern": False,
        "pain_medication_questions": True,
        "work_problems": True,
    },
    "measurements": [
        {
            "taken_on": "2024-05-27",
            "qbpds": {"items": [2, 3, 2, 1, 3, 3, 2, 2, 4, 1, 1, 4, 1, 2, 3, 3, 2, 3, 3, 4]},
            "psk": {
                "scale": "0-10",
                "activities": [
                    {"activity": "wandelen", "score": 7},
                    {"activity": "zitten", "score": 6},
                    {"activity": "tillen", "score": 8},
                ],
            },
            "nprs": 6,
            "start_back": {
                "agreed_items_1_to_8": [True, False, True, False, True, True, False, False],
                "item_9_bothersomeness": "very_much",
            },
        },
        {
            "taken_on": "2024-06-17",
            "qbpds": {"items": [2, 3, 2, 1, 3, 2, 2, 2, 4, 1, 1, 4, 1, 2, 3, 3, 2, 3, 3, 4]},
            "psk": {
                "scale": "0-10",
                "activities": [
                    {"activity": "wandelen", "score": 7},
                    {"activity": "zitten", "score": 6},
                    {"activity": "tillen", "score": 7},
                ],
            },
            "nprs": 6,
        },
    ],
    "treatment": {
        "start_date": "2024-05-27",
        "planned_sessions": 9,
        "interventions": [
            {"modality": "information_advice", "main_component": True},
            {"modality": "exercise_therapy", "main_component": True},
            {"modality": "graded_activity", "main_component": True},
            {"modality": "massage", "main_component": False},
        ],
        "graded_activity": {
            "start_date": "2024-06-03",
            "days_to_goal": 28,
            "activities": [
                {
                    "activity": "wandelen",
                    "intensity_unit": "km/u",
                    "baseline": [
                        {"duration_minutes": 8, "frequency_per_day": 1, "intensity": 3.5},
                        {"duration_minutes": 12, "frequency_per_day": 1, "intensity": 3.5},
                    ],
                    "goal": {"duration_minutes": 30, "frequency_per_day": 2, "intensity": 4.5},
                    "threat_rank": 1,
                },
                {
                    "activity": "tillen",
                    "intensity_unit": "kg",
                    "baseline": [{"duration_minutes": 2, "frequency_per_day": 1, "intensity": 2}],
                    "goal": {"duration_minutes": 5, "frequency_per_day": 3, "intensity": 8},
                    "threat_rank": 2,
                },
            ],
            "logged_days": [
                {
                    "activity": "wandelen",
                    "on": "2024-06-03",
                    "duration_minutes": 8,
                    "frequency_per_day": 1,
                    "intensity": 2.8,
                }
            ],
        },
    },
}


class EpisodeFacts(FrozenModel):
    """Everything known about one episode on the decision date: the input of ``evaluate``."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ACUTE_NORMAL, EXAMPLE_CHRONIC_DEVIATING]})

    decision_date: date = Field(
        description="The day the decisions are made for; the engine never reads a clock.",
        examples=["2024-03-25"],
    )
    onset_date: date = Field(description="First day of the current episode.", examples=["2024-03-01"])
    referral: Referral = Field(description="Contents of the referral.")
    previous_episodes: tuple[PastEpisode, ...] = Field(
        description="Earlier episodes of low back pain (empty when none)."
    )
    scope: ScopeFindings = Field(description="Findings that decide whether the guideline applies.")
    course: CourseObservations = Field(description="Observations of the course (beloop).")
    hindering_factors: tuple[HinderingFactor, ...] = Field(
        description="Biopsychosocial factors maintaining the complaints (empty when none)."
    )
    coping: Coping | None = Field(description="How the patient copes; null when not assessed.")
    care_context: CareContext = Field(description="Circumstances relevant for other disciplines.")
    measurements: tuple[Measurement, ...] = Field(default=(), description="Instrument measurements.")
    treatment: TreatmentFacts | None = Field(default=None, description="The treatment, once planned.")
    closing: ClosingFacts | None = Field(default=None, description="The closing, once treatment ends.")

    @property
    def fear_of_movement(self) -> bool:
        return any(f.kind is FactorKind.FEAR_OF_MOVEMENT for f in self.hindering_factors)

    @model_validator(mode="after")
    def _dates_are_consistent(self) -> "EpisodeFacts":
        errors: list[InitErrorDetails] = []
        decided = self.decision_date
        if self.onset_date > decided:
            errors.append(field_error(("onset_date",), "onset_date lies after decision_date", self.onset_date))
        for index, episode in enumerate(self.previous_episodes):
            if episode.end_date >= self.onset_date:
                errors.append(
                    field_error(
                        ("previous_episodes", index, "end_date"),
                        "a previous episode must end before onset_date of the current episode",
                        episode.end_date,
                    )
                )
        taken: set[date] = set()
        for index, measurement in enumerate(self.measurements):
            if measurement.taken_on > decided:
                errors.append(
                    field_error(
                        ("measurements", index, "taken_on"), "taken_on lies after decision_date", measurement.taken_on
                    )
                )
            if measurement.taken_on < self.onset_date:
                errors.append(
                    field_error(
                        ("measurements", index, "taken_on"), "taken_on lies before onset_date", measurement.taken_on
                    )
                )
            if measurement.taken_on in taken:
                errors.append(
                    field_error(
                        ("measurements", index, "taken_on"),
                        "two measurements on one day; merge them into one",
                        measurement.taken_on,
                    )
                )
            taken.add(measurement.taken_on)
        if self.treatment is not None:
            errors.extend(self._treatment_errors(self.treatment))
        if self.closing is not None:
            if self.closing.closed_on > decided:
                errors.append(
                    field_error(("closing", "closed_on"), "closed_on lies after decision_date", self.closing.closed_on)
                )
            earliest = self.treatment.start_date if self.treatment is not None else self.onset_date
            if self.closing.closed_on < earliest:
                errors.append(
                    field_error(
                        ("closing", "closed_on"),
                        "closed_on lies before the treatment start_date (or onset_date)",
                        self.closing.closed_on,
                    )
                )
        raise_field_errors(type(self).__name__, errors)
        return self

    def _treatment_errors(self, treatment: TreatmentFacts) -> list[InitErrorDetails]:
        errors: list[InitErrorDetails] = []
        if treatment.start_date > self.decision_date:
            errors.append(
                field_error(("treatment", "start_date"), "start_date lies after decision_date", treatment.start_date)
            )
        if treatment.start_date < self.onset_date:
            errors.append(
                field_error(("treatment", "start_date"), "start_date lies before onset_date", treatment.start_date)
            )
        plan = treatment.graded_activity
        if plan is None:
            return errors
        loc = ("treatment", "graded_activity")
        if plan.start_date < treatment.start_date:
            errors.append(
                field_error((*loc, "start_date"), "start_date lies before the treatment start_date", plan.start_date)
            )
        for index, day in enumerate(plan.logged_days):
            if day.on > self.decision_date:
                errors.append(field_error((*loc, "logged_days", index, "on"), "day lies after decision_date", day.on))
        if self.fear_of_movement:
            for index, activity in enumerate(plan.activities):
                if activity.threat_rank is None:
                    errors.append(
                        field_error(
                            (*loc, "activities", index, "threat_rank"),
                            "threat_rank is required when fear of movement is a hindering factor",
                            None,
                        )
                    )
        return errors
