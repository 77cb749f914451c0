"""An episode's evaluation plan as its events tell it, and what each change of plan decides.

The plan is a fold of the episode's events: the pathway's own (`EvaluationScheduled`, `EvaluationDue`,
`EvaluationCompleted`) and whether intake closed the episode (`EpisodeClosed`). From it, pure decisions:
what a referral plans (`first_evaluation`), what an intake event's plan change (`PlanChange`, from
`evaluation_schedule.plan_changes`) writes to the durable timers and announces (`decide`), and what a timer
raises when it fires (`firing`). The store writes the decided `TimerWrite`s to the timers table in the
transaction that appends the decisions' events, so firing stays durable and exactly-once; the timers table
holds nothing the events do not already say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from services.pathway.domain.evaluation_schedule import (
    EVALUATION_DUE,
    EVALUATION_OVERDUE,
    TIMER_KINDS,
    MoveFirstEvaluation,
    PlanChange,
    RecordEvaluation,
    StopEvaluations,
    first_evaluation_due_at,
    next_evaluation,
    timer_id_for,
)
from shared.events.intake import EpisodeClosed
from shared.events.pathway import EvaluationCompleted, EvaluationDue, EvaluationScheduled
from shared.events.payload import EventPayload


class Firing(StrEnum):
    """What a timer that came due leads to."""

    EVALUATION_DUE = "evaluation_due"
    EVALUATION_OVERDUE = "evaluation_overdue"
    NOTHING = "nothing"  # the timer is spent without an event: the reason for it went away


@dataclass(frozen=True)
class ScheduleTimer:
    """A new durable timer for evaluation `number` (its `kind`) at `due_at`."""

    kind: str
    number: int
    due_at: datetime


@dataclass(frozen=True)
class MoveFirstTimer:
    """The first evaluation's timer, not fired yet, falls due at `due_at` instead."""

    due_at: datetime


@dataclass(frozen=True)
class StopEvaluationTimers:
    """Evaluation `number` was recorded: its due and overdue timers that have not fired stop at `at`."""

    number: int
    at: datetime


@dataclass(frozen=True)
class StopAllTimers:
    """The episode closed at `at`: every timer of it that has not fired stops."""

    at: datetime


TimerWrite = ScheduleTimer | MoveFirstTimer | StopEvaluationTimers | StopAllTimers


@dataclass(frozen=True)
class PlanDecision:
    """What the store writes to the timers and the pathway announces, for one change of plan."""

    writes: tuple[TimerWrite, ...] = ()
    announced: tuple[EvaluationScheduled, ...] = ()


NOTHING_CHANGES = PlanDecision()


@dataclass
class EvaluationPlan:
    """The plan of one episode so far (`see` folds one more event in)."""

    episode_id: str
    planned: dict[int, EvaluationScheduled] = field(default_factory=dict)  # the latest announcement per number
    fell_due: dict[int, EvaluationDue] = field(default_factory=dict)
    completed: set[int] = field(default_factory=set)
    closed: bool = False

    @classmethod
    def of(cls, episode_id: str, events: Iterable[EventPayload]) -> EvaluationPlan:
        plan = cls(episode_id)
        for event in events:
            plan.see(event)
        return plan

    def see(self, event: EventPayload) -> None:
        match event:
            case EvaluationScheduled():
                self.planned[event.evaluation_number] = event
            case EvaluationDue():
                self.fell_due[event.evaluation_number] = event
            case EvaluationCompleted():
                self.completed.add(event.evaluation_number)
            case EpisodeClosed():
                self.closed = True

    def first_evaluation(self, referred_at: datetime, interval: timedelta) -> PlanDecision:
        """A referral plans the first evaluation one interval later, once (a referral seen again plans nothing)."""
        if self.closed or 1 in self.planned:
            return NOTHING_CHANGES
        return self._adopt(self._schedule(1, first_evaluation_due_at(referred_at, interval)))

    def decide(self, change: PlanChange, interval: timedelta) -> PlanDecision:
        """What one change of plan writes and announces; the plan takes it in. A closed episode plans nothing."""
        if self.closed:
            return NOTHING_CHANGES
        match change:
            case MoveFirstEvaluation():
                first = self.planned.get(1)
                if first is None or 1 in self.fell_due or 1 in self.completed or first.due_at == change.due_at:
                    return NOTHING_CHANGES  # nothing to move, or already done, or already there
                moved = EvaluationScheduled(timer_id=first.timer_id, evaluation_number=1, due_at=change.due_at)
                return self._adopt(PlanDecision((MoveFirstTimer(change.due_at),), (moved,)))
            case RecordEvaluation():
                number = change.evaluation_number
                if number not in self.planned or number in self.completed:
                    return NOTHING_CHANGES  # an evaluation nobody planned, or recorded before: nothing moves on
                self.completed.add(number)
                stop = StopEvaluationTimers(number, change.at)
                next_number, due_at = next_evaluation(number, change.at, interval)
                if next_number in self.planned:
                    return PlanDecision((stop,))
                scheduled = self._schedule(next_number, due_at)
                return self._adopt(PlanDecision((stop, *scheduled.writes), scheduled.announced))
            case StopEvaluations():
                self.closed = True
                return PlanDecision((StopAllTimers(change.at),))

    def firing(self, kind: str, number: int) -> Firing:
        """The event a timer of `kind` for evaluation `number` raises now: none once the evaluation was recorded
        or the episode closed."""
        if kind not in TIMER_KINDS:
            raise ValueError(f"kind: unknown timer kind {kind!r}")
        if self.closed or number in self.completed:
            return Firing.NOTHING
        return Firing.EVALUATION_DUE if kind == EVALUATION_DUE else Firing.EVALUATION_OVERDUE

    def fell_due_of(self, number: int) -> EvaluationDue:
        """The `EvaluationDue` of evaluation `number`, which its overdue check refers to."""
        found = self.fell_due.get(number)
        if found is None:
            raise LookupError(f"episode {self.episode_id!r}: evaluation {number} never fell due")
        return found

    def _schedule(self, number: int, due_at: datetime) -> PlanDecision:
        timer_id = timer_id_for(self.episode_id, EVALUATION_DUE, number)
        announced = EvaluationScheduled(timer_id=timer_id, evaluation_number=number, due_at=due_at)
        return PlanDecision((ScheduleTimer(EVALUATION_DUE, number, due_at),), (announced,))

    def _adopt(self, decision: PlanDecision) -> PlanDecision:
        for event in decision.announced:
            self.see(event)
        return decision


def overdue_check(due: EvaluationDue) -> ScheduleTimer:
    """An evaluation that fell due is checked for being overdue when its grace runs out."""
    return ScheduleTimer(EVALUATION_OVERDUE, due.evaluation_number, due.overdue_after)
