"""The pure evaluation rhythm: when evaluations fall due and when one is overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.pathway.domain.evaluation_schedule import (
    evaluation_due_at,
    is_due,
    next_evaluation_due_at,
    overdue_at,
)
from services.pathway.domain.guideline import CURRENT, DEFAULT_REGISTRY

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
THREE_WEEKS = timedelta(days=21)
WEEK = timedelta(days=7)


def test_the_rule_set_plans_evaluations_every_three_weeks():
    assert DEFAULT_REGISTRY.get(CURRENT).evaluation_interval_days == 21


def test_the_first_evaluation_falls_due_three_weeks_after_the_start_of_treatment():
    assert evaluation_due_at(START, 1, THREE_WEEKS) == datetime(2026, 12, 14, 9, 30, tzinfo=UTC)


def test_twelve_weeks_of_on_time_evaluations_fall_due_every_three_weeks_from_the_start():
    due = [evaluation_due_at(START, n, THREE_WEEKS) for n in range(1, 5)]
    assert due == [START + timedelta(weeks=3 * n) for n in range(1, 5)]
    assert due[-1] - START == timedelta(weeks=12)


def test_an_evaluation_recorded_on_the_day_it_fell_due_keeps_the_rhythm_counted_from_the_start():
    first = evaluation_due_at(START, 1, THREE_WEEKS)
    assert next_evaluation_due_at(first, THREE_WEEKS) == evaluation_due_at(START, 2, THREE_WEEKS)


def test_an_evaluation_recorded_late_keeps_three_weeks_of_treatment_before_the_next():
    recorded_late = evaluation_due_at(START, 1, THREE_WEEKS) + timedelta(days=5)
    assert next_evaluation_due_at(recorded_late, THREE_WEEKS) == recorded_late + THREE_WEEKS


def test_an_evaluation_recorded_early_brings_the_next_forward_by_as_much():
    recorded_early = evaluation_due_at(START, 1, THREE_WEEKS) - timedelta(days=2)
    assert next_evaluation_due_at(recorded_early, THREE_WEEKS) == START + timedelta(days=40)


def test_an_evaluation_is_overdue_a_grace_period_after_it_was_planned_to_fall_due():
    due = evaluation_due_at(START, 1, THREE_WEEKS)
    assert overdue_at(due, WEEK) == datetime(2026, 12, 21, 9, 30, tzinfo=UTC)


def test_no_grace_makes_an_evaluation_overdue_the_moment_it_falls_due():
    due = evaluation_due_at(START, 2, THREE_WEEKS)
    assert overdue_at(due, timedelta(0)) == due


def test_a_timer_is_due_at_its_moment_and_not_a_microsecond_earlier():
    due = evaluation_due_at(START, 1, THREE_WEEKS)
    assert not is_due(due, due - timedelta(microseconds=1))
    assert is_due(due, due)
    assert is_due(due, due + timedelta(weeks=10))  # long after, e.g. when the service was down


def test_due_compares_moments_not_wall_clock_readings_across_timezones():
    due = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    amsterdam_winter = timezone(timedelta(hours=1))
    assert is_due(due, datetime(2026, 12, 14, 11, 0, tzinfo=amsterdam_winter))
    assert not is_due(due, datetime(2026, 12, 14, 10, 59, tzinfo=amsterdam_winter))


def test_evaluations_are_numbered_from_one():
    with pytest.raises(ValueError, match="evaluation_number"):
        evaluation_due_at(START, 0, THREE_WEEKS)


@pytest.mark.parametrize("interval", [timedelta(0), -THREE_WEEKS])
def test_a_rhythm_that_does_not_move_forward_is_refused(interval):
    with pytest.raises(ValueError, match="interval"):
        evaluation_due_at(START, 1, interval)
    with pytest.raises(ValueError, match="interval"):
        next_evaluation_due_at(START, interval)


def test_a_negative_grace_is_refused():
    with pytest.raises(ValueError, match="grace"):
        overdue_at(START, -WEEK)


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: evaluation_due_at(naive, 1, THREE_WEEKS),
        lambda naive: next_evaluation_due_at(naive, THREE_WEEKS),
        lambda naive: overdue_at(naive, WEEK),
        lambda naive: is_due(naive, START),
        lambda naive: is_due(START, naive),
    ],
)
def test_moments_without_a_timezone_are_refused(call):
    with pytest.raises(ValueError, match="timezone"):
        call(datetime(2026, 11, 23, 9, 30))
