"""Indication and treatment plan by course and duration, and the plan check of interventions."""

from datetime import date

import pytest

from services.pathway.domain.guideline import ReasonCode, evaluate
from services.pathway.domain.guideline.vocabulary import FindingSeverity, Modality, PlanComponent

from .builders import days_ago, deviating_course, facts


def test_normal_course_gets_one_session_of_information_and_advice() -> None:
    assessment = evaluate(facts())
    plan = assessment.treatment_plan
    assert assessment.indication.code is ReasonCode.INDICATION_SINGLE_SESSION
    assert assessment.indication.physiotherapy_indicated is False
    assert plan is not None and plan.code is ReasonCode.PLAN_NORMAL_SINGLE_SESSION
    assert PlanComponent.ADVICE_STAY_ACTIVE in plan.components
    assert PlanComponent.ADVICE_NO_BED_REST in plan.components
    assert PlanComponent.OPTIONAL_CHECK_UP in plan.components
    assert PlanComponent.EXERCISE_THERAPY_VARIED_PROGRAMME not in plan.components
    assert plan.max_sessions == 2
    assert plan.reference.section == "II.I"


def test_course_not_yet_classifiable_gets_interim_guidance_with_check_up_on_day_21() -> None:
    # no increase yet after 10 days: whether there will be one within three weeks cannot be said yet
    assessment = evaluate(facts(onset_date="2024-06-10", course={"activities_participation_increased": False}))
    plan = assessment.treatment_plan
    assert assessment.indication.code is ReasonCode.INDICATION_PENDING_COURSE
    assert assessment.indication.physiotherapy_indicated is None
    assert plan is not None and plan.code is ReasonCode.PLAN_INTERIM_UNTIL_COURSE_CLASSIFIABLE
    assert plan.check_up_on == date(2024, 7, 1)


@pytest.mark.parametrize(("days", "bed_rest"), [(30, 2), (60, None)])
def test_deviating_subacute_course_practises_activities_without_exercise_therapy(
    days: int, bed_rest: int | None
) -> None:
    assessment = evaluate(facts(onset_date=days_ago(days), course=deviating_course()))
    plan = assessment.treatment_plan
    assert assessment.indication.physiotherapy_indicated is True
    assert plan is not None and plan.code is ReasonCode.PLAN_DEVIATING_SUBACUTE
    assert PlanComponent.PRACTISING_FUNCTIONS_ACTIVITIES in plan.components
    assert PlanComponent.INFORMATION_ADVICE in plan.components
    assert PlanComponent.EXERCISE_THERAPY_VARIED_PROGRAMME not in plan.components
    assert plan.not_advised == (PlanComponent.EXERCISE_THERAPY,)
    assert plan.bed_rest_max_days == bed_rest
    assert (PlanComponent.BED_REST_AT_MOST_TWO_DAYS in plan.components) is (bed_rest is not None)


def test_deviating_chronic_course_gets_varied_exercise_therapy_and_graded_activity() -> None:
    assessment = evaluate(facts(onset_date=days_ago(120), course=deviating_course()))
    plan = assessment.treatment_plan
    assert plan is not None and plan.code is ReasonCode.PLAN_DEVIATING_CHRONIC
    assert PlanComponent.EXERCISE_THERAPY_VARIED_PROGRAMME in plan.components
    assert PlanComponent.TIME_CONTINGENT_ACTIVITY_BUILDUP in plan.components
    assert plan.not_advised == ()
    assert plan.reference.section == "II.II"


def test_plan_targets_the_hindering_factors() -> None:
    assessment = evaluate(
        facts(course=deviating_course(), hindering_factors=[{"kind": "reduced_mobility", "influence": "yes"}])
    )
    assert assessment.treatment_plan is not None
    assert [k.value for k in assessment.treatment_plan.targeted_factors] == ["reduced_mobility"]


def test_an_early_increase_gets_the_normal_course_plan_of_one_session_of_information_and_advice() -> None:
    assessment = evaluate(facts(onset_date=days_ago(10)))
    plan = assessment.treatment_plan
    assert assessment.course.code is ReasonCode.COURSE_NORMAL_EARLY_INCREASE
    assert assessment.indication.code is ReasonCode.INDICATION_SINGLE_SESSION
    assert assessment.indication.physiotherapy_indicated is False
    assert plan is not None and plan.code is ReasonCode.PLAN_NORMAL_SINGLE_SESSION
    assert PlanComponent.INFORMATION_ADVICE in plan.components and plan.max_sessions == 2


def test_a_factor_physiotherapy_cannot_influence_goes_to_the_verwijzer_and_not_into_the_plan() -> None:
    assessment = evaluate(
        facts(
            course=deviating_course(),
            hindering_factors=[
                {"kind": "fear_of_movement", "influence": "yes"},
                {"kind": "reduced_coordination", "influence": "partly"},
                {"kind": "work_situation", "influence": "no"},
            ],
        )
    )
    assert assessment.treatment_plan is not None
    targeted = [k.value for k in assessment.treatment_plan.targeted_factors]
    assert targeted == ["fear_of_movement", "reduced_coordination"]  # within reach, fully or partly (II.II)
    factors = assessment.hindering_factors
    assert factors.contact_verwijzer and "work_situation" in [k.value for k in factors.not_only_physiotherapy]


def _plan_check(days: int, modality: str, main: bool = False, rationale: str | None = None):
    intervention = {"modality": modality, "main_component": main}
    if rationale:
        intervention["deviation_rationale"] = rationale
    treatment = {"start_date": days_ago(5), "interventions": [intervention]}
    [finding] = evaluate(facts(onset_date=days_ago(days), course=deviating_course(), treatment=treatment)).plan_check
    return finding


@pytest.mark.parametrize(
    ("modality", "main", "days", "code", "severity"),
    [
        ("traction", False, 30, ReasonCode.MODALITY_NOT_ADVISED, FindingSeverity.NOT_ADVISED),
        ("biofeedback", False, 120, ReasonCode.MODALITY_NOT_ADVISED, FindingSeverity.NOT_ADVISED),
        ("massage", False, 30, ReasonCode.MODALITY_EFFECT_UNKNOWN_SUPPORTIVE, FindingSeverity.CAUTION),
        ("electrotherapy", False, 30, ReasonCode.MODALITY_EFFECT_UNKNOWN_SUPPORTIVE, FindingSeverity.CAUTION),
        ("tens", False, 30, ReasonCode.MODALITY_EFFECT_UNKNOWN_SUPPORTIVE, FindingSeverity.CAUTION),
        ("ultrasound", False, 30, ReasonCode.MODALITY_EFFECT_UNKNOWN_SUPPORTIVE, FindingSeverity.CAUTION),
        ("laser", False, 30, ReasonCode.MODALITY_EFFECT_UNKNOWN_SUPPORTIVE, FindingSeverity.CAUTION),
        ("massage", True, 30, ReasonCode.MODALITY_EFFECT_UNKNOWN_AS_MAIN_COMPONENT, FindingSeverity.NOT_ADVISED),
        ("exercise_therapy", True, 30, ReasonCode.EXERCISE_THERAPY_NO_ADDED_VALUE_SUBACUTE, FindingSeverity.CAUTION),
        ("exercise_therapy", True, 120, ReasonCode.MODALITY_IN_LINE, FindingSeverity.IN_LINE),
        ("graded_activity", True, 30, ReasonCode.MODALITY_IN_LINE, FindingSeverity.IN_LINE),
        ("information_advice", True, 30, ReasonCode.MODALITY_IN_LINE, FindingSeverity.IN_LINE),
        ("manual_therapy", True, 30, ReasonCode.MODALITY_NOT_COVERED, FindingSeverity.NOT_COVERED),
    ],
)
def test_plan_check_flags_each_modality_as_the_guideline_says(
    modality: str, main: bool, days: int, code: ReasonCode, severity: FindingSeverity
) -> None:
    finding = _plan_check(days, modality, main)
    assert finding.modality is Modality(modality)
    assert finding.code is code
    assert finding.severity is severity


def test_documented_deviation_keeps_not_advised_traction_visible_and_cites_section_d() -> None:
    finding = _plan_check(30, "traction", rationale="Patient insists after trying everything else.")
    assert finding.code is ReasonCode.MODALITY_NOT_ADVISED_DEVIATION_DOCUMENTED
    assert finding.severity is FindingSeverity.NOT_ADVISED
    assert finding.reference.section == "D"


def test_more_sessions_than_one_plus_check_up_for_a_normal_course_are_flagged() -> None:
    treatment = {"start_date": days_ago(5), "planned_sessions": 6, "interventions": []}
    [finding] = evaluate(facts(treatment=treatment)).plan_check
    assert finding.code is ReasonCode.SESSIONS_EXCEED_NORMAL_COURSE
    assert finding.modality is None


def test_two_sessions_for_a_normal_course_are_not_flagged() -> None:
    treatment = {"start_date": days_ago(5), "planned_sessions": 2, "interventions": []}
    assert evaluate(facts(treatment=treatment)).plan_check == ()
