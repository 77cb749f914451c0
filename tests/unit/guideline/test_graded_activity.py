"""Graded activity: baseline, the day-by-day schedule, fear of movement, and progress against the schedule."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pathway.domain.guideline import KNGF_LRP_2003, ReasonCode, evaluate
from services.pathway.domain.guideline.facts import GradedActivityPlan
from services.pathway.domain.guideline.graded_activity import decide_graded_activity
from services.pathway.domain.guideline.vocabulary import AdherenceStatus

from .builders import deviating_course, facts

WALK = {
    "activity": "wandelen",
    "intensity_unit": "km/u",
    "baseline": [
        {"duration_minutes": 8, "frequency_per_day": 1, "intensity": 3},
        {"duration_minutes": 12, "frequency_per_day": 1, "intensity": 3},
    ],
    "goal": {"duration_minutes": 38, "frequency_per_day": 2, "intensity": 3},
    "threat_rank": 2,
}
LIFT = {
    "activity": "tillen",
    "intensity_unit": "kg",
    "baseline": [{"duration_minutes": 2, "frequency_per_day": 1, "intensity": 2}],
    "goal": {"duration_minutes": 5, "frequency_per_day": 2, "intensity": 8},
    "threat_rank": 1,
}


def _plan(*activities: dict, logged: list[dict] | None = None, days: int = 28) -> GradedActivityPlan:
    return GradedActivityPlan.model_validate(
        {"start_date": "2024-06-03", "days_to_goal": days, "activities": list(activities), "logged_days": logged or []}
    )


def test_schedule_starts_at_the_baseline_average_and_reaches_the_goal_on_the_agreed_day() -> None:
    decision = decide_graded_activity(_plan(WALK), False, KNGF_LRP_2003)
    [schedule] = decision.schedules
    assert schedule.baseline.duration_minutes == 10
    first, last = schedule.days[0], schedule.days[-1]
    assert (first.duration_minutes, first.frequency_per_day, first.intensity) == (10, 1, 3)
    assert (last.duration_minutes, last.frequency_per_day, last.intensity) == (38, 2, 3)
    assert last.on == date(2024, 7, 1) == schedule.reaches_goal_on
    assert schedule.days[1].duration_minutes == 11  # one minute a day: (38 - 10) / 28
    assert decision.code is ReasonCode.GRADED_ACTIVITY_SCHEDULED


def test_fear_of_movement_starts_lower_takes_smaller_steps_and_least_threatening_first() -> None:
    plain = decide_graded_activity(_plan(WALK, LIFT), False, KNGF_LRP_2003)
    fearful = decide_graded_activity(_plan(WALK, LIFT), True, KNGF_LRP_2003)
    assert [s.activity for s in plain.schedules] == ["wandelen", "tillen"]
    assert [s.activity for s in fearful.schedules] == ["tillen", "wandelen"]
    assert fearful.schedules[0].starts_on == date(2024, 6, 3)
    assert fearful.schedules[1].starts_on == date(2024, 6, 10)
    walk_plain = plain.schedules[0]
    walk_fearful = fearful.schedules[1]
    assert walk_fearful.start_level.duration_minutes < walk_plain.start_level.duration_minutes
    assert walk_fearful.step_per_day.duration_minutes < walk_plain.step_per_day.duration_minutes
    assert walk_fearful.reaches_goal_on > walk_plain.reaches_goal_on
    assert fearful.code is ReasonCode.GRADED_ACTIVITY_SCHEDULED_FEAR_OF_MOVEMENT


def _log(on: str, duration: float, frequency: int, intensity: float, activity: str = "wandelen") -> dict:
    return {
        "activity": activity,
        "on": on,
        "duration_minutes": duration,
        "frequency_per_day": frequency,
        "intensity": intensity,
    }


@pytest.mark.parametrize(
    ("logged", "status"),
    [
        (_log("2024-06-04", 11, 1, 3), AdherenceStatus.AS_AGREED),
        (_log("2024-06-04", 9, 1, 3), AdherenceStatus.LESS_THAN_AGREED),
        (_log("2024-06-04", 15, 1, 3), AdherenceStatus.MORE_THAN_AGREED),
        (_log("2024-06-04", 15, 0, 3), AdherenceStatus.LESS_AND_MORE_THAN_AGREED),
        (_log("2024-08-01", 38, 2, 3), AdherenceStatus.AS_AGREED),
    ],
)
def test_logged_day_is_compared_with_what_was_agreed_for_that_day(logged: dict, status: AdherenceStatus) -> None:
    decision = decide_graded_activity(_plan(WALK, logged=[logged]), False, KNGF_LRP_2003)
    [progress] = decision.progress
    assert progress.status is status
    assert progress.agreed is not None and progress.agreed.on == date.fromisoformat(logged["on"])


def test_day_logged_before_a_staggered_activity_starts_is_not_counted() -> None:
    plan = _plan(WALK, LIFT, logged=[_log("2024-06-04", 11, 1, 3)])
    decision = decide_graded_activity(plan, True, KNGF_LRP_2003)
    assert decision.progress[0].status is AdherenceStatus.BEFORE_ACTIVITY_START
    walk_summary = next(s for s in decision.summary if s.activity == "wandelen")
    assert (walk_summary.logged_days, walk_summary.adherence_percent) == (0, None)


def test_adherence_summary_counts_days_done_as_agreed() -> None:
    logged = [_log("2024-06-03", 10, 1, 3), _log("2024-06-04", 11, 1, 3), _log("2024-06-05", 20, 1, 3)]
    decision = decide_graded_activity(_plan(WALK, logged=logged), False, KNGF_LRP_2003)
    [summary] = decision.summary
    assert (summary.logged_days, summary.as_agreed_days, summary.adherence_percent) == (3, 2, 66.7)


def test_engine_uses_fear_of_movement_from_the_hindering_factors() -> None:
    treatment = {
        "start_date": "2024-06-01",
        "graded_activity": {"start_date": "2024-06-03", "days_to_goal": 28, "activities": [WALK, LIFT]},
    }
    assessment = evaluate(
        facts(
            onset_date="2024-01-10",
            course=deviating_course(),
            hindering_factors=[{"kind": "fear_of_movement", "influence": "yes"}],
            treatment=treatment,
        )
    )
    assert assessment.graded_activity is not None
    assert assessment.graded_activity.fear_of_movement is True
    assert assessment.graded_activity.schedules[0].activity == "tillen"


level = st.fixed_dictionaries(
    {
        "duration_minutes": st.integers(1, 60),
        "frequency_per_day": st.integers(1, 5),
        "intensity": st.integers(1, 20),
    }
)


@settings(max_examples=60, deadline=None)
@given(base=level, gain=level, days=st.integers(1, 60))
def test_fear_never_raises_the_start_or_the_steps_and_every_schedule_rises_to_the_goal(
    base: dict, gain: dict, days: int
) -> None:
    goal = {name: base[name] + gain[name] for name in base}
    activity = {"activity": "a", "intensity_unit": "u", "baseline": [base], "goal": goal, "threat_rank": 1}
    plan = _plan(activity, days=days)
    [plain] = decide_graded_activity(plan, False, KNGF_LRP_2003).schedules
    [fearful] = decide_graded_activity(plan, True, KNGF_LRP_2003).schedules
    for name in base:
        assert getattr(fearful.start_level, name) < getattr(plain.start_level, name)
        assert getattr(fearful.step_per_day, name) < getattr(plain.step_per_day, name)
    for schedule in (plain, fearful):
        for earlier, later in zip(schedule.days, schedule.days[1:], strict=False):
            assert later.duration_minutes >= earlier.duration_minutes
            assert later.frequency_per_day >= earlier.frequency_per_day
            assert later.intensity >= earlier.intensity
        final = schedule.days[-1]
        assert {name: getattr(final, name) for name in goal} == goal
