"""An episode's evaluation plan decided from its events: what a referral, the start of treatment, a recorded
evaluation and closing write to the timers and announce, and what a timer raises when it fires."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from services.pathway.domain.evaluation_plan import (
    EvaluationPlan,
    Firing,
    MoveFirstTimer,
    PlanDecision,
    ScheduleTimer,
    StopAllTimers,
    StopEvaluationTimers,
    overdue_check,
)
from services.pathway.domain.evaluation_schedule import (
    EVALUATION_DUE,
    EVALUATION_OVERDUE,
    MoveFirstEvaluation,
    RecordEvaluation,
    StopEvaluations,
    evaluation_due,
    timer_id_for,
)
from shared.events.intake import EpisodeClosed
from shared.events.pathway import EvaluationScheduled
from tests.unit.pathway_timers.test_evaluation_plan_changes import completed

EPISODE = "episode-1"
REFERRED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
WEEKS_3 = timedelta(days=21)


def scheduled(number: int, due_at: datetime) -> EvaluationScheduled:
    return EvaluationScheduled(
        timer_id=timer_id_for(EPISODE, EVALUATION_DUE, number), evaluation_number=number, due_at=due_at
    )


def closed() -> EpisodeClosed:
    return EpisodeClosed(closed_on=date(2026, 12, 20), reason="goals_met")


def referred_plan() -> EvaluationPlan:
    plan = EvaluationPlan(EPISODE)
    plan.first_evaluation(REFERRED, WEEKS_3)
    return plan


def test_a_referral_plans_the_first_evaluation_three_weeks_later_once():
    plan = EvaluationPlan(EPISODE)
    first = plan.first_evaluation(REFERRED, WEEKS_3)
    assert first == PlanDecision(
        (ScheduleTimer(EVALUATION_DUE, 1, REFERRED + WEEKS_3),), (scheduled(1, REFERRED + WEEKS_3),)
    )
    assert plan.first_evaluation(REFERRED + timedelta(days=1), WEEKS_3) == PlanDecision()  # the referral again


def test_the_plan_is_what_the_events_say():
    due = evaluation_due(timer_id_for(EPISODE, EVALUATION_DUE, 1), 1, REFERRED + WEEKS_3, REFERRED + WEEKS_3, WEEKS_3)
    plan = EvaluationPlan.of(EPISODE, [scheduled(1, REFERRED + WEEKS_3), due, completed(1), closed()])
    assert plan.planned == {1: scheduled(1, REFERRED + WEEKS_3)}
    assert plan.fell_due == {1: due}
    assert plan.completed == {1}
    assert plan.closed


def test_the_start_of_treatment_moves_the_first_evaluation_and_announces_it_again():
    plan = referred_plan()
    start = REFERRED + timedelta(days=2)
    decision = plan.decide(MoveFirstEvaluation(start + WEEKS_3), WEEKS_3)
    assert decision == PlanDecision((MoveFirstTimer(start + WEEKS_3),), (scheduled(1, start + WEEKS_3),))
    assert plan.planned[1].due_at == start + WEEKS_3
    assert plan.decide(MoveFirstEvaluation(start + WEEKS_3), WEEKS_3) == PlanDecision()  # already there


def test_a_first_evaluation_that_fell_due_or_was_recorded_or_never_planned_does_not_move():
    fell_due = referred_plan()
    fell_due.see(evaluation_due(timer_id_for(EPISODE, EVALUATION_DUE, 1), 1, REFERRED, REFERRED, WEEKS_3))
    recorded = referred_plan()
    recorded.see(completed(1))
    for plan in (fell_due, recorded, EvaluationPlan(EPISODE)):
        assert plan.decide(MoveFirstEvaluation(REFERRED + timedelta(days=30)), WEEKS_3) == PlanDecision()


def test_a_recorded_evaluation_stops_its_timers_and_plans_the_next_one_interval_after_it():
    plan = referred_plan()
    at = REFERRED + timedelta(days=24)
    decision = plan.decide(RecordEvaluation(1, at), WEEKS_3)
    assert decision == PlanDecision(
        (StopEvaluationTimers(1, at), ScheduleTimer(EVALUATION_DUE, 2, at + WEEKS_3)), (scheduled(2, at + WEEKS_3),)
    )
    assert plan.firing(EVALUATION_DUE, 1) is Firing.NOTHING
    assert plan.firing(EVALUATION_DUE, 2) is Firing.EVALUATION_DUE


def test_an_evaluation_recorded_twice_plans_the_next_one_once():
    plan = referred_plan()
    plan.decide(RecordEvaluation(1, REFERRED + WEEKS_3), WEEKS_3)
    assert plan.decide(RecordEvaluation(1, REFERRED + WEEKS_3 + timedelta(days=3)), WEEKS_3) == PlanDecision()
    assert plan.planned[2].due_at == REFERRED + 2 * WEEKS_3


def test_an_evaluation_nobody_planned_moves_nothing_on():
    assert referred_plan().decide(RecordEvaluation(2, REFERRED + WEEKS_3), WEEKS_3) == PlanDecision()


def test_a_recorded_evaluation_whose_successor_is_planned_only_stops_its_own_timers():
    plan = referred_plan()
    plan.see(scheduled(2, REFERRED + 2 * WEEKS_3))
    at = REFERRED + WEEKS_3
    assert plan.decide(RecordEvaluation(1, at), WEEKS_3) == PlanDecision((StopEvaluationTimers(1, at),))


def test_closing_stops_every_timer_and_nothing_is_planned_or_fires_afterwards():
    plan = referred_plan()
    at = REFERRED + timedelta(days=10)
    assert plan.decide(StopEvaluations(at), WEEKS_3) == PlanDecision((StopAllTimers(at),))
    assert plan.decide(RecordEvaluation(1, at), WEEKS_3) == PlanDecision()
    assert plan.decide(MoveFirstEvaluation(at + WEEKS_3), WEEKS_3) == PlanDecision()
    assert plan.decide(StopEvaluations(at), WEEKS_3) == PlanDecision()
    assert plan.first_evaluation(at, WEEKS_3) == PlanDecision()
    assert plan.firing(EVALUATION_DUE, 1) is Firing.NOTHING


def test_an_episode_intake_closed_plans_nothing_even_before_the_pathway_decided_anything():
    plan = EvaluationPlan.of(EPISODE, [closed()])
    assert plan.first_evaluation(REFERRED, WEEKS_3) == PlanDecision()


@pytest.mark.parametrize(
    ("kind", "recorded", "is_closed", "expected"),
    [
        (EVALUATION_DUE, False, False, Firing.EVALUATION_DUE),
        (EVALUATION_DUE, True, False, Firing.NOTHING),
        (EVALUATION_DUE, False, True, Firing.NOTHING),
        (EVALUATION_DUE, True, True, Firing.NOTHING),
        (EVALUATION_OVERDUE, False, False, Firing.EVALUATION_OVERDUE),
        (EVALUATION_OVERDUE, True, False, Firing.NOTHING),
        (EVALUATION_OVERDUE, False, True, Firing.NOTHING),
        (EVALUATION_OVERDUE, True, True, Firing.NOTHING),
    ],
)
def test_a_timer_raises_its_event_only_while_its_evaluation_is_unrecorded_and_its_episode_open(
    kind, recorded, is_closed, expected
):
    events = [
        scheduled(1, REFERRED + WEEKS_3),
        *([completed(1)] if recorded else []),
        *([closed()] if is_closed else []),
    ]
    assert EvaluationPlan.of(EPISODE, events).firing(kind, 1) is expected


def test_an_unknown_timer_kind_is_refused_rather_than_fired():
    with pytest.raises(ValueError, match="kind"):
        referred_plan().firing("evaluation_reminder", 1)


def test_an_overdue_check_refers_to_the_evaluation_that_fell_due_and_comes_when_its_grace_ran_out():
    plan = referred_plan()
    due = evaluation_due(
        timer_id_for(EPISODE, EVALUATION_DUE, 1), 1, REFERRED + WEEKS_3, REFERRED + WEEKS_3, timedelta(days=7)
    )
    plan.see(due)
    assert plan.fell_due_of(1) == due
    assert overdue_check(due) == ScheduleTimer(EVALUATION_OVERDUE, 1, REFERRED + WEEKS_3 + timedelta(days=7))
    with pytest.raises(LookupError, match="evaluation 2"):
        plan.fell_due_of(2)


def test_a_plan_folded_again_from_the_events_it_announced_decides_the_same_from_there_on():
    # The plan a batch keeps in memory and the one the next batch (or the scheduler) folds from the stored
    # events are the same plan: every decision it announces is an event it reads back.
    rng = random.Random(16)
    for _ in range(200):
        live = EvaluationPlan(EPISODE)
        stored: list = []
        at = REFERRED
        stored += live.first_evaluation(at, WEEKS_3).announced
        for _ in range(rng.randint(1, 8)):
            at += timedelta(days=rng.randint(1, 30))
            change = rng.choice(
                [
                    MoveFirstEvaluation(at + WEEKS_3),
                    RecordEvaluation(rng.randint(1, 4), at),
                    RecordEvaluation(rng.randint(1, 4), at),
                    StopEvaluations(at),
                ]
            )
            decision = live.decide(change, WEEKS_3)
            stored += decision.announced
            if isinstance(change, RecordEvaluation) and decision != PlanDecision():
                stored.append(completed(change.evaluation_number))
            if isinstance(change, StopEvaluations):
                stored.append(closed())
        again = EvaluationPlan.of(EPISODE, stored)
        assert (again.planned, again.completed, again.closed) == (live.planned, live.completed, live.closed)
        probe = RecordEvaluation(rng.randint(1, 4), at + timedelta(days=1))
        assert again.decide(probe, WEEKS_3) == live.decide(probe, WEEKS_3)
