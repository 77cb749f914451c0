"""Duration class and recurrence: table-driven, boundaries and the monotonicity property."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pathway.domain.guideline import DurationClass, ReasonCode, evaluate
from services.pathway.domain.guideline.duration import one_year_before

from .builders import DECISION_DATE, days_ago, facts

ORDER = [DurationClass.ACUTE, DurationClass.SUBACUTE, DurationClass.CHRONIC]


@pytest.mark.parametrize(
    ("days", "expected", "code"),
    [
        (0, DurationClass.ACUTE, ReasonCode.DURATION_ACUTE),
        (42, DurationClass.ACUTE, ReasonCode.DURATION_ACUTE),
        (43, DurationClass.SUBACUTE, ReasonCode.DURATION_SUBACUTE),
        (84, DurationClass.SUBACUTE, ReasonCode.DURATION_SUBACUTE),
        (85, DurationClass.CHRONIC, ReasonCode.DURATION_CHRONIC),
        (400, DurationClass.CHRONIC, ReasonCode.DURATION_CHRONIC),
    ],
)
def test_duration_class_follows_days_since_onset(days: int, expected: DurationClass, code: ReasonCode) -> None:
    decision = evaluate(facts(onset_date=days_ago(days))).duration
    assert decision.duration_class is expected
    assert decision.code is code
    assert decision.days_since_onset == days
    assert decision.reference.label == "Inleiding Afbakening lage-rugpijn"


@settings(max_examples=60, deadline=None)
@given(onset_offset=st.integers(min_value=0, max_value=500), extra=st.integers(min_value=0, max_value=200))
def test_duration_class_never_decreases_as_time_passes(onset_offset: int, extra: int) -> None:
    onset = DECISION_DATE - timedelta(days=onset_offset)
    earlier = evaluate(facts(onset_date=onset.isoformat())).duration.duration_class
    later_facts = facts(onset_date=onset.isoformat(), decision_date=(DECISION_DATE + timedelta(days=extra)).isoformat())
    later = evaluate(later_facts).duration.duration_class
    assert ORDER.index(later) >= ORDER.index(earlier)


def _episode(start_days_ago: int, length: int) -> dict[str, str]:
    return {"onset_date": days_ago(start_days_ago), "end_date": days_ago(start_days_ago - length)}


def test_exactly_two_episodes_within_a_year_is_not_recurrent() -> None:
    decision = evaluate(facts(onset_date=days_ago(10), previous_episodes=[_episode(100, 20)])).recurrence
    assert decision.episodes_in_window == 2
    assert decision.recurrent is False
    assert decision.code is ReasonCode.NOT_RECURRENT_TOO_FEW_EPISODES


def test_three_episodes_within_a_year_under_six_months_are_recurrent() -> None:
    previous = [_episode(200, 20), _episode(100, 20)]
    decision = evaluate(facts(onset_date=days_ago(10), previous_episodes=previous)).recurrence
    assert decision.episodes_in_window == 3
    assert decision.total_days_in_window == 50
    assert decision.recurrent is True
    assert decision.code is ReasonCode.RECURRENT


@pytest.mark.parametrize(("second_length", "recurrent"), [(82, True), (83, False)])
def test_total_duration_just_under_six_months_is_recurrent_and_just_over_is_not(
    second_length: int, recurrent: bool
) -> None:
    # 10 (current) + 90 + second_length days: 182 days is under six months, 183 is not.
    previous = [_episode(300, 90), _episode(190, second_length)]
    decision = evaluate(facts(onset_date=days_ago(10), previous_episodes=previous)).recurrence
    assert decision.total_days_in_window == 100 + second_length
    assert decision.recurrent is recurrent
    if not recurrent:
        assert decision.code is ReasonCode.NOT_RECURRENT_TOTAL_DURATION_TOO_LONG


def test_an_episode_that_ended_more_than_a_year_ago_does_not_count() -> None:
    previous = [_episode(500, 20), _episode(100, 20)]
    decision = evaluate(facts(onset_date=days_ago(10), previous_episodes=previous)).recurrence
    assert decision.episodes_in_window == 2
    assert decision.recurrent is False


def test_one_year_before_leap_day_falls_back_to_the_28th() -> None:
    assert one_year_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert one_year_before(date(2024, 6, 20), 1) == date(2023, 6, 20)
