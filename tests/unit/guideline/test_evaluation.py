"""Evaluation: increase in activities and participation, the three-week escalation, the next due date."""

from datetime import date

from services.pathway.domain.guideline import ReasonCode, evaluate

from .builders import deviating_course, facts, measurement, qbpds

START = "2024-05-27"


def _facts(*measurements: dict, start: str = START):
    return facts(
        onset_date="2024-01-10",
        course=deviating_course(),
        measurements=list(measurements),
        treatment={"start_date": start},
    )


def test_no_progress_after_three_weeks_escalates_to_referrer() -> None:
    assessment = evaluate(_facts(measurement(START, qbpds=qbpds(60)), measurement("2024-06-17", qbpds=qbpds(55))))
    evaluation = assessment.evaluation
    assert evaluation is not None
    assert evaluation.code is ReasonCode.EVALUATION_NO_EFFECT_ESCALATE
    assert evaluation.treatment_days == 21
    assert evaluation.activities_participation_increased is False
    assert evaluation.escalate_to_verwijzer is True
    assert evaluation.next_evaluation_due is None
    assert evaluation.reference.label == "II.III Evaluatie"
    assert ReasonCode.EVALUATION_NO_EFFECT_ESCALATE in assessment.referrer_contact.reasons


def test_no_progress_after_twenty_days_waits_for_the_three_week_mark() -> None:
    evaluation = evaluate(
        _facts(measurement(START, qbpds=qbpds(60)), measurement("2024-06-16", qbpds=qbpds(60)))
    ).evaluation
    assert evaluation is not None
    assert evaluation.code is ReasonCode.EVALUATION_NO_EFFECT_YET
    assert evaluation.escalate_to_verwijzer is False
    assert evaluation.next_evaluation_due == date(2024, 6, 17)


def test_progress_schedules_the_next_evaluation_three_weeks_later() -> None:
    evaluation = evaluate(
        _facts(measurement(START, qbpds=qbpds(60)), measurement("2024-06-17", qbpds=qbpds(40)))
    ).evaluation
    assert evaluation is not None
    assert evaluation.code is ReasonCode.EVALUATION_PROGRESS
    assert evaluation.activities_participation_increased is True
    assert evaluation.next_evaluation_due == date(2024, 7, 8)
    assert evaluation.overdue is False


def test_psk_improvement_alone_counts_as_increase_in_activities() -> None:
    psk_before = {"scale": "0-10", "activities": [{"activity": "lopen", "score": 8}]}
    psk_after = {"scale": "0-10", "activities": [{"activity": "lopen", "score": 5}]}
    evaluation = evaluate(
        _facts(
            measurement(START, qbpds=qbpds(60), psk=psk_before),
            measurement("2024-06-17", qbpds=qbpds(60), psk=psk_after),
        )
    ).evaluation
    assert evaluation is not None and evaluation.activities_participation_increased is True


def test_less_pain_alone_is_not_an_increase_in_activities_and_participation() -> None:
    evaluation = evaluate(
        _facts(measurement(START, qbpds=qbpds(60), nprs=8), measurement("2024-06-17", qbpds=qbpds(60), nprs=2))
    ).evaluation
    assert evaluation is not None
    assert evaluation.code is ReasonCode.EVALUATION_NO_EFFECT_ESCALATE
    nprs = next(c for c in evaluation.changes if c.instrument.value == "nprs")
    assert nprs.important is True


def test_evaluation_is_pending_without_a_measurement_after_the_start() -> None:
    evaluation = evaluate(_facts(measurement(START, qbpds=qbpds(60)))).evaluation
    assert evaluation is not None
    assert evaluation.code is ReasonCode.EVALUATION_PENDING_MEASUREMENTS
    assert evaluation.next_evaluation_due == date(2024, 6, 17)
    assert evaluation.overdue is True  # decision date 2024-06-20 is past the due date
    assert evaluation.activities_participation_increased is None


def test_measurements_without_a_shared_activity_instrument_are_not_comparable() -> None:
    evaluation = evaluate(_facts(measurement(START, qbpds=qbpds(60)), measurement("2024-06-17", nprs=4))).evaluation
    assert evaluation is not None
    assert evaluation.code is ReasonCode.EVALUATION_NOT_COMPARABLE
    assert evaluation.escalate_to_verwijzer is False


def test_no_evaluation_before_treatment_starts() -> None:
    assert evaluate(facts()).evaluation is None
