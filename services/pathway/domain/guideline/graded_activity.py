"""Time-contingent graded activity: the day-by-day schedule per activity and progress against it.

Each activity climbs in equal daily steps from its start level to the goal, separately in duration,
frequency and intensity (II.II: "opbouw per activiteit in duur, frequentie en intensiteit"), on a
time-contingent basis: the step depends on the day, never on pain. The patient does not less and not more
than the level agreed for that day; after the goal day the goal is the agreed level.
"""

import math
from datetime import date, timedelta

from pydantic import Field

from .decisions import Decision, FrozenModel
from .facts import ActivityLevel, GradedActivity, GradedActivityPlan, LoggedDay
from .instruments import round_half_up
from .reason_codes import ReasonCode
from .versions import RuleSet
from .vocabulary import AdherenceStatus

_DIMENSIONS = ("duration_minutes", "frequency_per_day", "intensity")
_TOLERANCE = 1e-9


class Level(FrozenModel):
    """An activity level with fractional values (averages, start levels, steps)."""

    duration_minutes: float = Field(description="Minutes per bout.")
    frequency_per_day: float = Field(description="Bouts per day.")
    intensity: float = Field(description="Intensity in the activity's unit.")


class ScheduledDay(FrozenModel):
    """The level agreed for one day."""

    day: int = Field(ge=1, description="Day number within this activity's schedule (1 = first day).")
    on: date = Field(description="Calendar day.")
    duration_minutes: float = Field(description="Agreed minutes per bout (whole minutes, goal on last day).")
    frequency_per_day: int = Field(description="Agreed bouts per day.")
    intensity: float = Field(description="Agreed intensity (one decimal, goal on last day).")


class ActivitySchedule(FrozenModel):
    """Schedule of one activity, from its start level to the goal."""

    activity: str = Field(description="The activity.")
    intensity_unit: str = Field(description="Unit of intensity.")
    order: int = Field(ge=1, description="Position in the programme; least threatening first with fear.")
    baseline: Level = Field(description="Average of the measured current levels (basislijn).")
    start_level: Level = Field(description="Level on the first day.")
    step_per_day: Level = Field(description="Daily increase per dimension.")
    goal: Level = Field(description="Goal level agreed with the patient.")
    starts_on: date = Field(description="First day of this activity.")
    reaches_goal_on: date = Field(description="Day on which the goal level is agreed.")
    days: tuple[ScheduledDay, ...] = Field(description="Agreed level per day.")


class LoggedDayProgress(FrozenModel):
    """One logged day compared with what was agreed (a point on the patient's graph)."""

    activity: str
    on: date
    agreed: ScheduledDay | None = Field(description="What was agreed; null before the activity started.")
    done: ActivityLevel = Field(description="What the patient logged.")
    status: AdherenceStatus


class ActivityProgress(FrozenModel):
    """Adherence summary for one activity."""

    activity: str
    logged_days: int = Field(ge=0, description="Logged days on or after the activity's start.")
    as_agreed_days: int = Field(ge=0, description="Days done exactly as agreed.")
    adherence_percent: float | None = Field(description="Share of logged days done as agreed.")


class GradedActivityDecision(Decision):
    """The graded-activity schedule and the progress against it."""

    fear_of_movement: bool = Field(description="Schedule adapted to fear of movement.")
    schedules: tuple[ActivitySchedule, ...]
    progress: tuple[LoggedDayProgress, ...]
    summary: tuple[ActivityProgress, ...]


def baseline_of(activity: GradedActivity) -> Level:
    count = len(activity.baseline)
    return Level(**{name: sum(getattr(b, name) for b in activity.baseline) / count for name in _DIMENSIONS})


def _as_level(level: ActivityLevel) -> Level:
    return Level(**{name: float(getattr(level, name)) for name in _DIMENSIONS})


def _rounded(name: str, value: float, goal: float) -> float:
    digits = {"duration_minutes": 0, "frequency_per_day": 0, "intensity": 1}[name]
    return min(round_half_up(value, digits), goal)


def schedule_activity(
    activity: GradedActivity, plan: GradedActivityPlan, fearful: bool, order: int, starts_on: date, rules: RuleSet
) -> ActivitySchedule:
    baseline = baseline_of(activity)
    goal = _as_level(activity.goal)
    ordinary_days = plan.days_to_goal
    if not fearful:
        start = baseline
        days = ordinary_days
    else:
        start = Level(**{n: getattr(baseline, n) * rules.fearful_start_fraction for n in _DIMENSIONS})
        # Enough days that every rising dimension climbs by at most the fearful fraction of its ordinary
        # step; taking the slowest dimension keeps all dimensions arriving at the goal on the same day.
        needed = [
            (getattr(goal, n) - getattr(start, n))
            / (rules.fearful_step_fraction * (getattr(goal, n) - getattr(baseline, n)) / ordinary_days)
            for n in _DIMENSIONS
            if getattr(goal, n) > getattr(baseline, n)
        ]
        days = max(1, math.ceil(max(needed) - _TOLERANCE))
    step = Level(**{n: (getattr(goal, n) - getattr(start, n)) / days for n in _DIMENSIONS})
    scheduled = []
    for index in range(days + 1):
        values = {
            n: getattr(goal, n)
            if index == days
            else _rounded(n, getattr(start, n) + getattr(step, n) * index, getattr(goal, n))
            for n in _DIMENSIONS
        }
        scheduled.append(
            ScheduledDay(
                day=index + 1,
                on=starts_on + timedelta(days=index),
                duration_minutes=values["duration_minutes"],
                frequency_per_day=int(values["frequency_per_day"]),
                intensity=values["intensity"],
            )
        )
    return ActivitySchedule(
        activity=activity.activity,
        intensity_unit=activity.intensity_unit,
        order=order,
        baseline=baseline,
        start_level=start,
        step_per_day=step,
        goal=goal,
        starts_on=starts_on,
        reaches_goal_on=starts_on + timedelta(days=days),
        days=tuple(scheduled),
    )


def _compare(day: LoggedDay, schedule: ActivitySchedule) -> LoggedDayProgress:
    done = ActivityLevel(
        duration_minutes=day.duration_minutes, frequency_per_day=day.frequency_per_day, intensity=day.intensity
    )
    if day.on < schedule.starts_on:
        return LoggedDayProgress(
            activity=day.activity, on=day.on, agreed=None, done=done, status=AdherenceStatus.BEFORE_ACTIVITY_START
        )
    index = min((day.on - schedule.starts_on).days, len(schedule.days) - 1)
    agreed = schedule.days[index]
    if index == len(schedule.days) - 1 and agreed.on != day.on:
        agreed = agreed.model_copy(update={"on": day.on, "day": (day.on - schedule.starts_on).days + 1})
    less = any(getattr(done, n) < getattr(agreed, n) - _TOLERANCE for n in _DIMENSIONS)
    more = any(getattr(done, n) > getattr(agreed, n) + _TOLERANCE for n in _DIMENSIONS)
    status = {
        (False, False): AdherenceStatus.AS_AGREED,
        (True, False): AdherenceStatus.LESS_THAN_AGREED,
        (False, True): AdherenceStatus.MORE_THAN_AGREED,
        (True, True): AdherenceStatus.LESS_AND_MORE_THAN_AGREED,
    }[(less, more)]
    return LoggedDayProgress(activity=day.activity, on=day.on, agreed=agreed, done=done, status=status)


def decide_graded_activity(plan: GradedActivityPlan, fear_of_movement: bool, rules: RuleSet) -> GradedActivityDecision:
    if fear_of_movement:
        # Least threatening first; ties keep the order the therapist gave.
        ordered = sorted(plan.activities, key=lambda a: a.threat_rank or 0)
        stagger = timedelta(days=rules.fearful_stagger_days)
    else:
        ordered, stagger = list(plan.activities), timedelta(0)
    schedules = tuple(
        schedule_activity(activity, plan, fear_of_movement, order, plan.start_date + stagger * (order - 1), rules)
        for order, activity in enumerate(ordered, start=1)
    )
    by_name = {s.activity: s for s in schedules}
    progress = tuple(
        _compare(day, by_name[day.activity]) for day in sorted(plan.logged_days, key=lambda d: (d.on, d.activity))
    )
    summary = []
    for schedule in schedules:
        counted = [
            p
            for p in progress
            if p.activity == schedule.activity and p.status is not AdherenceStatus.BEFORE_ACTIVITY_START
        ]
        agreed = sum(1 for p in counted if p.status is AdherenceStatus.AS_AGREED)
        summary.append(
            ActivityProgress(
                activity=schedule.activity,
                logged_days=len(counted),
                as_agreed_days=agreed,
                adherence_percent=round_half_up(agreed / len(counted) * 100, 1) if counted else None,
            )
        )
    if fear_of_movement:
        code = ReasonCode.GRADED_ACTIVITY_SCHEDULED_FEAR_OF_MOVEMENT
        start_pct = round_half_up(rules.fearful_start_fraction * 100)
        step_pct = round_half_up(rules.fearful_step_fraction * 100)
        nl = (
            f"Bewegingsangst: startniveau {start_pct:g}% van de basislijn, stappen {step_pct:g}% van de gewone "
            f"stap, minst bedreigende activiteit eerst en elke volgende {rules.fearful_stagger_days} dagen later. "
            "De patiënt doet niet minder en niet meer dan voor die dag is afgesproken."
        )
        en = (
            f"Fear of movement: start level {start_pct:g}% of the baseline, steps {step_pct:g}% of the ordinary "
            f"step, least threatening activity first and each next one {rules.fearful_stagger_days} days later. "
            "The patient does not less and not more than agreed for the day."
        )
    else:
        code = ReasonCode.GRADED_ACTIVITY_SCHEDULED
        nl = (
            f"Schema per activiteit van de basislijn (gemiddelde huidige niveau) naar het doel in "
            f"{plan.days_to_goal} dagen, tijdgebonden. De patiënt doet niet minder en niet meer dan afgesproken."
        )
        en = (
            f"Schedule per activity from the baseline (average current level) to the goal in "
            f"{plan.days_to_goal} days, time-contingent. The patient does not less and not more than agreed."
        )
    return GradedActivityDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=rules.sections.treatment_deviating_course,
        rule_version=rules.version,
        fear_of_movement=fear_of_movement,
        schedules=schedules,
        progress=progress,
        summary=tuple(summary),
    )
