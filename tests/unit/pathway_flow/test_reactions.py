"""The pathway's reactions to an episode's intake events: which guideline decisions it records, once."""

from __future__ import annotations

from datetime import date, timedelta

from deploy.intake_history import CARE, DEVIATING_COURSE, NORMAL_COURSE, RADICULAR, WITHIN
from services.pathway.domain.episode_facts import build_facts
from services.pathway.domain.guideline import evaluate
from services.pathway.domain.reactions import PathwayMemory, react
from shared.events import clinical
from shared.events.intake import (
    ActivityLogged,
    AssessmentCompleted,
    HistoryTaken,
    MeasurementRecorded,
    TreatmentPlanAgreed,
    sample_referral,
)
from shared.events.pathway import EscalationReason, TreatmentPlanProposed

START = date(2026, 11, 20)


def history(onset: date, course=NORMAL_COURSE, care=CARE, factors=()) -> HistoryTaken:
    return HistoryTaken(
        taken_on=START, onset_date=onset, course=course, care_context=care, hindering_factors=factors, coping="adequate"
    )


def qbpds(level: int) -> clinical.Measurement:
    return clinical.Measurement(taken_on=START, qbpds=clinical.QbpdsAnswers(items=(level,) * 20), nprs=6)


def decide(events, on: date = START, memory: PathwayMemory | None = None):
    facts = build_facts(events, on)
    assert facts is not None
    return react(memory or PathwayMemory(), evaluate(facts), events[-1], "01234567")


def names(events) -> list[str]:
    return [type(e).__name__ for e in events]


def test_nothing_is_decided_before_history_and_assessment():
    assert build_facts([sample_referral()], START) is None
    assert build_facts([sample_referral(), history(START - timedelta(days=30))], START) is None


def test_an_acute_normal_course_gets_a_classification_and_the_advice_plan_without_escalation():
    events = [
        sample_referral(),
        history(START - timedelta(days=25)),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
    ]
    decided = decide(events)
    assert names(decided) == ["BeloopClassified", "TreatmentPlanProposed"]
    course, plan = decided
    assert course.beloop == "normaal" and course.duration_class == "acute"
    assert course.reason.section and course.reason.reason_nl
    assert "information_advice" in plan.components


def test_before_three_weeks_the_course_is_recorded_as_not_yet_classifiable():
    no_increase_yet = NORMAL_COURSE.model_copy(update={"activities_participation_increased": False})
    events = [
        sample_referral(),
        history(START - timedelta(days=10), course=no_increase_yet),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
    ]
    [course, *_] = decide(events)
    assert course.beloop is None and course.classifiable_on == START - timedelta(days=10) + timedelta(days=21)


def test_an_increase_before_three_weeks_is_recorded_as_a_normal_course():
    events = [
        sample_referral(),
        history(START - timedelta(days=10)),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
    ]
    [course, *_] = decide(events)
    assert course.beloop == "normaal" and course.reason.code == "course.normal.increase_within_three_weeks"
    assert "binnen 3 weken" in course.reason.reason_nl


def test_a_positive_neurological_exam_puts_the_patient_outside_the_guideline_and_escalates():
    events = [
        sample_referral(),
        history(START - timedelta(days=30)),
        AssessmentCompleted(assessed_on=START, scope=RADICULAR),
    ]
    decided = decide(events)
    escalations = [e for e in decided if type(e).__name__ == "EscalatedToReferrer"]
    assert [e.reason for e in escalations] == [EscalationReason.RADICULAR_SIGNS]
    assert escalations[0].referrer_agb == "01234567" and escalations[0].guideline_section
    assert "TreatmentPlanProposed" not in names(decided)


def test_recording_the_same_decisions_again_records_nothing():
    events = [
        sample_referral(),
        history(START - timedelta(days=25)),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
    ]
    first = decide(events)
    assert decide(events, memory=PathwayMemory.rebuild(first)) == []


def test_questions_about_pain_medication_propose_the_pharmacist_once():
    care = clinical.CareContext(weight_or_nutrition_concern=False, pain_medication_questions=True, work_problems=False)
    events = [
        sample_referral(),
        history(START - timedelta(days=25), care=care),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
    ]
    decided = decide(events)
    consults = [e for e in decided if type(e).__name__ == "ConsultRequested"]
    assert [c.discipline for c in consults] == ["apotheker"]
    assert decide(events, memory=PathwayMemory.rebuild(decided)) == []


def test_no_progress_at_the_three_week_evaluation_completes_it_and_escalates_to_the_referrer():
    onset = START - timedelta(days=120)  # chronic
    plan = TreatmentPlanAgreed(
        agreed_on=START,
        start_date=START,
        interventions=(clinical.PlannedIntervention(modality="exercise_therapy", main_component=True),),
    )
    before = [
        sample_referral(),
        history(onset, course=DEVIATING_COURSE),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
        MeasurementRecorded(occasion="intake", measurement=qbpds(3)),
        plan,
    ]
    memory = PathwayMemory.rebuild(decide(before))
    week3 = START + timedelta(days=21)
    evaluation = MeasurementRecorded(
        occasion="evaluation", evaluation_number=1, measurement=qbpds(3).model_copy(update={"taken_on": week3})
    )
    decided = decide([*before, evaluation], on=week3, memory=memory)
    completed = [e for e in decided if type(e).__name__ == "EvaluationCompleted"]
    assert len(completed) == 1 and completed[0].escalate_to_verwijzer is True
    assert completed[0].activities_participation_increased is False
    escalations = [e.reason for e in decided if type(e).__name__ == "EscalatedToReferrer"]
    assert EscalationReason.NO_PROGRESS_AFTER_THREE_WEEKS in escalations


def test_progress_at_the_evaluation_plans_the_next_one_without_escalation():
    onset = START - timedelta(days=120)
    plan = TreatmentPlanAgreed(
        agreed_on=START,
        start_date=START,
        interventions=(clinical.PlannedIntervention(modality="exercise_therapy", main_component=True),),
    )
    before = [
        sample_referral(),
        history(onset, course=DEVIATING_COURSE),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
        MeasurementRecorded(occasion="intake", measurement=qbpds(4)),
        plan,
    ]
    memory = PathwayMemory.rebuild(decide(before))
    week3 = START + timedelta(days=21)
    evaluation = MeasurementRecorded(
        occasion="evaluation", evaluation_number=1, measurement=qbpds(1).model_copy(update={"taken_on": week3})
    )
    decided = decide([*before, evaluation], on=week3, memory=memory)
    [completed] = [e for e in decided if type(e).__name__ == "EvaluationCompleted"]
    assert completed.activities_participation_increased is True and completed.escalate_to_verwijzer is False
    assert completed.next_evaluation_due == week3 + timedelta(days=21)
    assert "EscalatedToReferrer" not in names(decided)


def test_a_day_logged_ahead_is_no_fact_until_it_has_come():
    from tests.unit.intake.test_episode_rules import PROGRAMME

    first = PROGRAMME.start_date
    plan = TreatmentPlanAgreed(
        agreed_on=START,
        start_date=START,
        interventions=(clinical.PlannedIntervention(modality="exercise_therapy", main_component=True),),
        graded_activity=PROGRAMME,
    )

    def day(on: date) -> ActivityLogged:
        return ActivityLogged(
            day=clinical.LoggedDay(activity="wandelen", on=on, duration_minutes=15, frequency_per_day=1, intensity=3.5)
        )

    events = [
        sample_referral(),
        history(START - timedelta(days=120), course=DEVIATING_COURSE),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
        plan,
        day(first),
        day(first + timedelta(days=3)),  # logged ahead
    ]
    facts = build_facts(events, first + timedelta(days=1))
    assert facts is not None and facts.treatment is not None and facts.treatment.graded_activity is not None
    assert [d.on for d in facts.treatment.graded_activity.logged_days] == [first]
    later = build_facts(events, first + timedelta(days=3))
    assert later is not None and later.treatment is not None and later.treatment.graded_activity is not None
    assert [d.on for d in later.treatment.graded_activity.logged_days] == [first, first + timedelta(days=3)]


def test_a_plan_starting_ahead_is_no_treatment_fact_until_its_first_session_day():
    """A practice agrees a plan today whose first session is next week (intake allows it): deciding today must
    not fail (it once sent the event to the dead letters and parked the episode), and weighs the plan from then."""
    onset = START - timedelta(days=120)
    start = START + timedelta(days=5)
    plan = TreatmentPlanAgreed(
        agreed_on=START,
        start_date=start,
        interventions=(clinical.PlannedIntervention(modality="traction", main_component=True),),
    )
    events = [
        sample_referral(),
        history(onset, course=DEVIATING_COURSE),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
        plan,
    ]
    assert build_facts(events, START).treatment is None
    assert build_facts(events, start).treatment.start_date == start
    flagged_today = [e for e in decide(events, on=START) if isinstance(e, TreatmentPlanProposed)]
    flagged_then = [e for e in decide(events, on=start) if isinstance(e, TreatmentPlanProposed)]
    assert all(not p.flagged_modalities for p in flagged_today)
    assert [m.modality for p in flagged_then for m in p.flagged_modalities] == ["traction"]


def test_two_measurements_of_one_day_are_one_fact_the_later_score_of_an_instrument_replacing_the_earlier():
    """Intake records a second measurement of a day (a correction, or the PSK after the QBPDS): deciding must not
    fail on "two measurements on one day" (it once dead-lettered the event and parked the episode)."""
    psk = clinical.PskAnswers(scale="0-10", activities=(clinical.PskActivityScore(activity="lopen", score=7),))
    events = [
        sample_referral(),
        history(START - timedelta(days=120), course=DEVIATING_COURSE),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
        MeasurementRecorded(occasion="intake", measurement=qbpds(3)),
        MeasurementRecorded(occasion="intake", measurement=clinical.Measurement(taken_on=START, psk=psk, nprs=4)),
        MeasurementRecorded(
            occasion="intake", measurement=clinical.Measurement(taken_on=START + timedelta(days=2), nprs=1)
        ),
    ]
    [measurement] = build_facts(events, START).measurements  # the one dated ahead is no fact yet
    assert measurement.qbpds is not None and measurement.psk is not None and measurement.nprs == 4
    assert len(build_facts(events, START + timedelta(days=2)).measurements) == 2
    assert decide(events)  # decides without error
