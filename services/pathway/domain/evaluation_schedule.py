"""The pathway's evaluation rhythm: when an episode's evaluations fall due, when one becomes overdue, and what
each intake event changes in the plan (`plan_changes`); what those changes decide, given the episode's
events, is `evaluation_plan`'s.

Pure rules: moments come in as arguments (the caller reads its clock), nothing here does I/O. Two kinds
of durable timer exist per evaluation: `evaluation_due` (the evaluation falls due) and
`evaluation_overdue` (the grace period after that ran out).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.events.intake import EpisodeClosed, TreatmentPlanAgreed
from shared.events.pathway import EvaluationCompleted, EvaluationDue, EvaluationOverdue
from shared.events.payload import EventPayload

EVALUATION_DUE = "evaluation_due"
EVALUATION_OVERDUE = "evaluation_overdue"
TIMER_KINDS = (EVALUATION_DUE, EVALUATION_OVERDUE)
TIMER_NAMESPACE = uuid.UUID("0c8f3b0e-2a4d-5b7f-8e61-7d9a4c2b1f30")


def timer_id_for(episode_id: str, kind: str, sequence: int) -> uuid.UUID:
    """Deterministic, so scheduling the same evaluation twice yields the same timer."""
    return uuid.uuid5(TIMER_NAMESPACE, f"{episode_id}:{kind}:{sequence}")


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


def next_evaluation(evaluation_number: int, recorded_at: datetime, interval: timedelta) -> tuple[int, datetime]:
    """(number, due at) of the evaluation after evaluation `evaluation_number`, first recorded at
    `recorded_at`: the next one, one interval later (`next_evaluation_due_at`)."""
    return evaluation_number + 1, next_evaluation_due_at(recorded_at, interval)


@dataclass(frozen=True)
class MoveFirstEvaluation:
    """Treatment started: the first evaluation falls due one interval after the start, not the referral."""

    due_at: datetime


@dataclass(frozen=True)
class RecordEvaluation:
    """Evaluation `evaluation_number` was done at `at`: its timers stop and the next evaluation is planned
    one interval after it was first recorded (`next_evaluation_due_at`)."""

    evaluation_number: int
    at: datetime


@dataclass(frozen=True)
class StopEvaluations:
    """The episode closed at `at`: nothing of it fires any more and nothing new is planned (its open timers
    stop); its escalations are no longer open."""

    at: datetime


PlanChange = MoveFirstEvaluation | RecordEvaluation | StopEvaluations


def first_evaluation_due_at(referred_at: datetime, interval: timedelta) -> datetime:
    """Planned on the referral: one interval after it, until treatment starts (`MoveFirstEvaluation`)."""
    return _aware(referred_at, "referred_at") + _forward(interval)


def plan_changes(
    trigger: EventPayload, at: datetime, decided: Sequence[EventPayload], interval: timedelta
) -> list[PlanChange]:
    """What one intake event (`trigger`, recorded at `at`) changes in the episode's evaluation plan, given the
    pathway's decisions because of it (`decided`), in the order the store applies them. The first evaluation
    of a referral is planned before anything is decided (`first_evaluation_due_at`)."""
    changes: list[PlanChange] = []
    if isinstance(trigger, TreatmentPlanAgreed):
        start = datetime.combine(trigger.start_date, at.timetz())
        changes.append(MoveFirstEvaluation(evaluation_due_at(start, 1, interval)))
    changes += [RecordEvaluation(e.evaluation_number, at) for e in decided if isinstance(e, EvaluationCompleted)]
    if isinstance(trigger, EpisodeClosed):
        changes.append(StopEvaluations(at))
    return changes


def evaluation_correlation_id(episode_id: str, evaluation_number: int) -> uuid.UUID:
    """EvaluationDue and EvaluationOverdue of one evaluation share a correlation id, stable across restarts."""
    return uuid.uuid5(TIMER_NAMESPACE, f"{episode_id}:evaluation:{evaluation_number}:correlation")


def fired_event_id(timer_id: uuid.UUID) -> uuid.UUID:
    """The id of the event a timer raises: a second firing could not put a second event in the log."""
    return uuid.uuid5(TIMER_NAMESPACE, f"{timer_id}:fired")


def evaluation_due(
    timer_id: uuid.UUID, evaluation_number: int, due_at: datetime, fired_at: datetime, grace: timedelta
) -> EvaluationDue:
    """The evaluation fell due; it is overdue `grace` after it was planned to (`overdue_at`)."""
    return EvaluationDue(
        timer_id=timer_id,
        evaluation_number=evaluation_number,
        due_at=due_at,
        fired_at=fired_at,
        overdue_after=overdue_at(due_at, grace),
    )


def evaluation_overdue(
    evaluation_timer_id: uuid.UUID, evaluation_number: int, due_at: datetime, overdue_since: datetime
) -> EvaluationOverdue:
    """The grace after the evaluation fell due ran out. Named by the evaluation's own timer id, as in
    EvaluationScheduled and EvaluationDue, so readers can join."""
    return EvaluationOverdue(
        timer_id=evaluation_timer_id,
        evaluation_number=evaluation_number,
        due_at=due_at,
        overdue_since=overdue_since,
    )


def _forward(interval: timedelta) -> timedelta:
    if interval <= timedelta(0):
        raise ValueError("interval: an evaluation rhythm must move forward in time")
    return interval


def _aware(moment: datetime, name: str) -> datetime:
    # Naive and aware datetimes do not compare; a naive one here is a bug upstream, not local time.
    if moment.tzinfo is None:
        raise ValueError(f"{name}: needs a timezone")
    return moment
