"""What each intake event changes in an episode's evaluation plan, decided without the timers table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.pathway.domain.evaluation_schedule import (
    MoveFirstEvaluation,
    RecordEvaluation,
    StopEvaluations,
    first_evaluation_due_at,
    next_evaluation,
    plan_changes,
)
from shared.events.intake import EpisodeClosed, TreatmentPlanAgreed, sample_referral
from shared.events.pathway import EvaluationCompleted, GuidelineReason

AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
THREE_WEEKS = timedelta(days=21)
REASON = GuidelineReason(code="evaluation.progress", reason_nl="nl", reason_en="en", section="B.4")


def completed(number: int) -> EvaluationCompleted:
    return EvaluationCompleted(
        evaluation_number=number,
        activities_participation_increased=True,
        treatment_days=21,
        escalate_to_verwijzer=False,
        next_evaluation_due=None,
        decided_on=AT.date(),
        reason=REASON,
    )


def test_a_referral_plans_its_first_evaluation_one_interval_later():
    assert first_evaluation_due_at(AT, THREE_WEEKS) == AT + THREE_WEEKS


def test_the_start_of_treatment_moves_the_first_evaluation_to_three_weeks_after_it_at_the_same_hour():
    plan = TreatmentPlanAgreed(agreed_on=date(2026, 11, 23), start_date=date(2026, 11, 25))
    assert plan_changes(plan, AT, [], THREE_WEEKS) == [MoveFirstEvaluation(datetime(2026, 12, 16, 9, 30, tzinfo=UTC))]


def test_each_evaluation_completed_is_recorded_at_the_moment_of_the_event():
    changes = plan_changes(sample_referral(), AT, [completed(1), completed(2)], THREE_WEEKS)
    assert changes == [RecordEvaluation(1, AT), RecordEvaluation(2, AT)]


def test_closing_the_episode_stops_its_evaluations_after_recording_what_was_completed():
    closed = EpisodeClosed(closed_on=AT.date(), reason="goals_met")
    assert plan_changes(closed, AT, [completed(3)], THREE_WEEKS) == [RecordEvaluation(3, AT), StopEvaluations(AT)]


def test_other_events_change_nothing_in_the_plan():
    assert plan_changes(sample_referral(), AT, [], THREE_WEEKS) == []


def test_the_next_evaluation_is_the_following_number_one_interval_after_the_first_recording():
    assert next_evaluation(1, AT, THREE_WEEKS) == (2, AT + THREE_WEEKS)
