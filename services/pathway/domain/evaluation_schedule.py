"""When an episode's evaluations fall due, when one becomes overdue, and what a timer does when it fires.

Pure rules: moments come in as arguments (the caller reads its clock), nothing here does I/O. Two kinds
of durable timer exist per evaluation: `evaluation_due` (the evaluation falls due) and
`evaluation_overdue` (the grace period after that ran out).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

EVALUATION_DUE = "evaluation_due"
EVALUATION_OVERDUE = "evaluation_overdue"
TIMER_KINDS = (EVALUATION_DUE, EVALUATION_OVERDUE)


class Firing(StrEnum):
    """What a timer that came due leads to."""

    EVALUATION_DUE = "evaluation_due"
    EVALUATION_OVERDUE = "evaluation_overdue"
    NOTHING = "nothing"  # the timer is spent without an event: the reason for it went away


def evaluation_due_at(treatment_start: datetime, evaluation_number: int, interval: timedelta) -> datetime:
    """Evaluation n of an episode whose evaluations are all done on time: n intervals after the start."""
    _aware(treatment_start, "treatment_start")
    _forward(interval)
    if evaluation_number < 1:
        raise ValueError("evaluation_number: evaluations are numbered from 1")
    return treatment_start + evaluation_number * interval


def next_evaluation_due_at(recorded_at: datetime, interval: timedelta) -> datetime:
    """The next evaluation falls due one interval after the evaluation actually recorded.

    Counting from the recording rather than from the start keeps three weeks of treatment between two
    evaluations: one done a week late does not make the next one fall due two weeks later, and one done on
    the day it fell due gives exactly the rhythm counted from the start.
    """
    return _aware(recorded_at, "recorded_at") + _forward(interval)


def overdue_at(due_at: datetime, grace: timedelta) -> datetime:
    """Counted from when the evaluation was planned to fall due, not from when a late scheduler fired it."""
    if grace < timedelta(0):
        raise ValueError("grace: cannot be negative")
    return _aware(due_at, "due_at") + grace


def is_due(due_at: datetime, now: datetime) -> bool:
    """A timer fires at its moment, not a tick earlier."""
    return _aware(due_at, "due_at") <= _aware(now, "now")


def what_fires(kind: str, *, evaluation_recorded: bool, episode_closed: bool) -> Firing:
    """The event a timer of `kind` raises, given what happened to its evaluation and episode meanwhile."""
    if kind not in TIMER_KINDS:
        raise ValueError(f"kind: unknown timer kind {kind!r}")
    if episode_closed or evaluation_recorded:
        return Firing.NOTHING
    return Firing.EVALUATION_DUE if kind == EVALUATION_DUE else Firing.EVALUATION_OVERDUE


def _forward(interval: timedelta) -> timedelta:
    if interval <= timedelta(0):
        raise ValueError("interval: an evaluation rhythm must move forward in time")
    return interval


def _aware(moment: datetime, name: str) -> datetime:
    # Naive and aware datetimes do not compare; a naive one here is a bug upstream, not local time.
    if moment.tzinfo is None:
        raise ValueError(f"{name}: needs a timezone")
    return moment
