"""What a draft protocol would have changed: every episode re-decided from the facts as they were recorded.

`replay` runs one episode's intake events, in their order, through the fold the consumer runs
(`episode_decisions.decide`), under the protocol each moment had (`protocol_on`), and fires the evaluation
timers the way the scheduler does: an evaluation planned for a moment falls due then unless it was recorded or
the episode closed before, and is overdue when its grace ran out unrecorded. Under the protocols that were in
force, a replay gives the decisions the pathway recorded (the zero-difference property, tested against the real
consumer); under a draft it gives what would have been recorded instead.

`compare` names what differs between the decisions recorded for an episode and its replay under a draft:
escalations added and removed (with their reason), evaluations moved (planned for another day, or planned in one
and not the other), treatment plans changed (the plan last proposed), and which evaluations went overdue. The
recorded decisions are read, not replayed: the zero-difference property is what lets every difference be put down
to the draft. `summarise` counts that per practice.

Pure: no I/O, no clock (`until`, the end of the period looked at, comes in).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from services.pathway.domain.episode_decisions import EpisodeState, IntakeFact, RulesCache, decide
from services.pathway.domain.evaluation_plan import EvaluationPlan
from services.pathway.domain.evaluation_schedule import (
    EVALUATION_DUE,
    EVALUATION_OVERDUE,
    evaluation_due,
    evaluation_overdue,
)
from services.pathway.domain.protocol import Protocol
from shared.disclosure import Split, TableShape, round_table
from shared.events.pathway import (
    EscalatedToReferrer,
    EvaluationOverdue,
    EvaluationScheduled,
    TreatmentPlanProposed,
)
from shared.events.payload import EventPayload

ProtocolOn = Callable[[date], Protocol]


@dataclass(frozen=True)
class EpisodeHistory:
    """What the pathway recorded of one episode's intake: its facts in stream order, its practice and referrer."""

    episode_id: str
    practice_agb: str
    referrer_agb: str | None
    facts: Sequence[IntakeFact]


@dataclass(frozen=True)
class Decided:
    """One decision of a replay and the moment it was made."""

    at: datetime
    payload: EventPayload


def replay(history: EpisodeHistory, protocol_on: ProtocolOn, until: datetime, rules: RulesCache) -> list[Decided]:
    """Every decision the pathway makes for the episode up to `until`, under the protocol of each moment."""
    state = EpisodeState(0, EvaluationPlan(history.episode_id), referrer_agb=history.referrer_agb)
    decided: list[Decided] = []
    overdue: set[int] = set()  # evaluations whose overdue check fired
    for fact in history.facts:
        if fact.occurred_at > until:
            break
        _fire_timers(state, fact.occurred_at, protocol_on, decided, overdue)
        state.intake_events.append((fact.stream_version, fact.payload))
        made, _ = decide(state, fact, rules.of(protocol_on(fact.occurred_at.date())))
        decided += [Decided(fact.occurred_at, payload) for payload in made]
    _fire_timers(state, until, protocol_on, decided, overdue)
    return decided


def _fire_timers(
    state: EpisodeState, now: datetime, protocol_on: ProtocolOn, decided: list[Decided], overdue: set[int]
) -> None:
    """Fire, in time order, the timers whose moment came by `now` (an intake event at the same moment comes
    after them): what the scheduler would have raised."""
    plan = state.plan
    while not plan.closed:
        pending: list[tuple[datetime, int, str]] = []
        for number, scheduled in plan.planned.items():
            if number in plan.completed:
                continue
            if number not in plan.fell_due:
                pending.append((scheduled.due_at, number, EVALUATION_DUE))
            elif number not in overdue:
                pending.append((plan.fell_due[number].overdue_after, number, EVALUATION_OVERDUE))
        ripe = [p for p in pending if p[0] <= now]
        if not ripe:
            return
        moment, number, kind = min(ripe)
        payload: EventPayload
        if kind == EVALUATION_DUE:
            grace = protocol_on(moment.date()).overdue_grace
            payload = evaluation_due(plan.planned[number].timer_id, number, moment, moment, grace)
        else:
            due = plan.fell_due[number]
            payload = evaluation_overdue(due.timer_id, number, due.due_at, moment)
            overdue.add(number)
        plan.see(payload)
        state.decided.append(payload)
        decided.append(Decided(moment, payload))


@dataclass(frozen=True)
class Escalation:
    reason: str
    explanation_nl: str


@dataclass(frozen=True)
class MovedEvaluation:
    number: int
    due_before: datetime | None  # None: not planned as it was
    due_after: datetime | None  # None: not planned under the draft


@dataclass(frozen=True)
class EpisodeDifference:
    """What a draft changes for one episode (empty lists and equal flags: nothing)."""

    episode_id: str
    practice_agb: str
    referred_on: date
    escalations_added: list[Escalation] = field(default_factory=list)
    escalations_removed: list[Escalation] = field(default_factory=list)
    evaluations_moved: list[MovedEvaluation] = field(default_factory=list)
    plan_before: TreatmentPlanProposed | None = None
    plan_after: TreatmentPlanProposed | None = None
    overdue_before: frozenset[int] = frozenset()  # the evaluations (by number) that went overdue
    overdue_after: frozenset[int] = frozenset()

    @property
    def plan_changed(self) -> bool:
        return _plan_key(self.plan_before) != _plan_key(self.plan_after)

    @property
    def differs(self) -> bool:
        return bool(
            self.escalations_added
            or self.escalations_removed
            or self.evaluations_moved
            or self.plan_changed
            or self.overdue_before != self.overdue_after
        )


# The decisions `compare` reads: of an episode's recorded decisions, only these need reading.
COMPARED: tuple[type[EventPayload], ...] = (
    EscalatedToReferrer,
    EvaluationOverdue,
    EvaluationScheduled,
    TreatmentPlanProposed,
)


def compare(history: EpisodeHistory, before: Sequence[Decided], after: Sequence[Decided]) -> EpisodeDifference:
    """What differs between two runs of decisions on one episode (as recorded, or a replay, and a replay)."""
    escalated_before, escalated_after = _escalations(before), _escalations(after)
    planned_before, planned_after = _planned(before), _planned(after)
    moved = [
        MovedEvaluation(number, planned_before.get(number), planned_after.get(number))
        for number in sorted(planned_before.keys() | planned_after.keys())
        if planned_before.get(number) != planned_after.get(number)
    ]
    return EpisodeDifference(
        history.episode_id,
        history.practice_agb,
        history.facts[0].occurred_at.date(),
        escalations_added=[e for reason, e in escalated_after.items() if reason not in escalated_before],
        escalations_removed=[e for reason, e in escalated_before.items() if reason not in escalated_after],
        evaluations_moved=moved,
        plan_before=_last_plan(before),
        plan_after=_last_plan(after),
        overdue_before=_overdue(before),
        overdue_after=_overdue(after),
    )


def _escalations(decided: Iterable[Decided]) -> dict[str, Escalation]:
    return {
        d.payload.reason.value: Escalation(d.payload.reason.value, d.payload.explanation_nl)
        for d in decided
        if isinstance(d.payload, EscalatedToReferrer)
    }


def _overdue(decided: Iterable[Decided]) -> frozenset[int]:
    return frozenset(d.payload.evaluation_number for d in decided if isinstance(d.payload, EvaluationOverdue))


def _planned(decided: Iterable[Decided]) -> dict[int, datetime]:
    """Each evaluation's last planned moment."""
    return {
        d.payload.evaluation_number: d.payload.due_at for d in decided if isinstance(d.payload, EvaluationScheduled)
    }


def _last_plan(decided: Iterable[Decided]) -> TreatmentPlanProposed | None:
    plans = [d.payload for d in decided if isinstance(d.payload, TreatmentPlanProposed)]
    return plans[-1] if plans else None


def _plan_key(plan: TreatmentPlanProposed | None) -> tuple[object, ...] | None:
    """What a plan proposes (not its wording or the day it was proposed)."""
    if plan is None:
        return None
    return (
        plan.physiotherapy_indicated,
        plan.fits_guideline,
        plan.components,
        plan.not_advised,
        plan.max_sessions,
        plan.check_up_on,
        plan.flagged_modalities,
    )


@dataclass
class PracticeCounts:
    """What a draft changes in one practice (raw counts; the route publishes them under disclosure control)."""

    episodes: int = 0
    episodes_changed: int = 0
    escalations_added: Counter[str] = field(default_factory=Counter)  # by reason
    escalations_removed: Counter[str] = field(default_factory=Counter)
    episodes_with_evaluations_moved: int = 0
    plans_changed: int = 0
    overdue_before: int = 0  # episodes with an evaluation gone overdue, as recorded
    overdue_after: int = 0  # the same under the draft
    evaluations_overdue_before: int = 0
    evaluations_overdue_after: int = 0

    def add(self, other: PracticeCounts) -> None:
        """Count `other`'s episodes in too (the same cell, summarised from another chunk)."""
        for name, value in vars(other).items():
            mine = getattr(self, name)
            if isinstance(mine, Counter):
                mine.update(value)
            else:
                setattr(self, name, mine + value)


Cell = tuple[str, date]  # (practice AGB, first day of the month of referral): the unit of publication


def summarise(differences: Iterable[EpisodeDifference]) -> dict[Cell, PracticeCounts]:
    """The counts per practice and month of referral of the episodes re-decided, each episode counted once per
    kind."""
    practices: dict[Cell, PracticeCounts] = {}
    for difference in differences:
        cell = (difference.practice_agb, difference.referred_on.replace(day=1))
        counts = practices.setdefault(cell, PracticeCounts())
        counts.episodes += 1
        counts.episodes_changed += difference.differs
        counts.escalations_added.update(e.reason for e in difference.escalations_added)
        counts.escalations_removed.update(e.reason for e in difference.escalations_removed)
        counts.episodes_with_evaluations_moved += bool(difference.evaluations_moved)
        counts.plans_changed += difference.plan_changed
        counts.overdue_before += bool(difference.overdue_before)
        counts.overdue_after += bool(difference.overdue_after)
        counts.evaluations_overdue_before += len(difference.overdue_before)
        counts.evaluations_overdue_after += len(difference.overdue_after)
    return practices


def add_counts(total: dict[Cell, PracticeCounts], part: dict[Cell, PracticeCounts]) -> None:
    """Count `part` (another chunk of episodes summarised) into `total`."""
    for cell, counts in part.items():
        total.setdefault(cell, PracticeCounts()).add(counts)


# What the network sees of a what-if, in this order: per practice, every count rounded to a multiple of 5 by the
# dashboard's controlled rounding (`shared.disclosure`); a practice whose episodes round to 0 is left out.
FIGURES = (
    "episodes",
    "episodes_changed",
    "escalations_added",
    "escalations_removed",
    "episodes_with_evaluations_moved",
    "plans_changed",
    "overdue_before",
    "overdue_after",
)
PUBLISHED_SHAPE = TableShape(
    roots=tuple(name for name in FIGURES if name != "episodes_changed"),
    splits=(Split("episodes", ("episodes_changed", "episodes_unchanged")),),
    anchor="episodes",
)


def published(cell: Cell, counts: PracticeCounts) -> dict[str, int] | None:
    """One cell's counts as published (`PUBLISHED_SHAPE`): the same cell and counts give the same figures, whatever
    the draft or the period asked; None when its episodes round to 0. A practice's or the network's figures are
    sums of published cells, never of raw counts."""
    values = {
        "episodes": counts.episodes,
        "episodes_changed": counts.episodes_changed,
        "episodes_unchanged": counts.episodes - counts.episodes_changed,
        "escalations_added": sum(counts.escalations_added.values()),
        "escalations_removed": sum(counts.escalations_removed.values()),
        "episodes_with_evaluations_moved": counts.episodes_with_evaluations_moved,
        "plans_changed": counts.plans_changed,
        "overdue_before": counts.overdue_before,
        "overdue_after": counts.overdue_after,
    }
    rounded, _ = round_table(PUBLISHED_SHAPE, values, {}, f"what-if|{cell[0]}|{cell[1].isoformat()}")
    return rounded if rounded["episodes"] else None


def network_total(by_practice: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """The network's figures: the sum of its practices' (`figures_by_practice`)."""
    return {name: sum(figures[name] for figures in by_practice.values()) for name in FIGURES}


def figures_by_practice(counts: dict[Cell, PracticeCounts]) -> dict[str, dict[str, int]]:
    """Each practice's figures (`FIGURES`), summed from its published cells; a practice with none published is
    left out. The network's total is the sum of these."""
    by_practice: dict[str, dict[str, int]] = {}
    for cell, cell_counts in sorted(counts.items()):
        figures = published(cell, cell_counts)
        if figures is not None:
            sums = by_practice.setdefault(cell[0], dict.fromkeys(FIGURES, 0))
            for name in FIGURES:
                sums[name] += figures[name]
    return by_practice
