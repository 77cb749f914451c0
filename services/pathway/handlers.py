"""Pathway's handlers: load → decide (domain) → write (store), one function per event batch or query.

`on_intake_events` is the consumer's: intake events in, guideline decisions and evaluation plans out.
Events arrive in batches. A batch keeps its copies and parties in one statement each, loads what it needs of
every episode it touches in three, plans the first evaluation of each referral in one, decides event by
event in arrival order in memory (each decision sees the episode as it stood after the events before it;
the guideline in `domain.reactions`, the evaluation plan in `domain.evaluation_schedule.plan_changes`),
then writes the plan changes to the timers (`store.timers`; `evaluation_recorded` plans the next evaluation
with `domain.evaluation_schedule.next_evaluation`) and appends every decision in one statement.

`on_timer_due` fires one durable timer the scheduler claimed: what happened to its evaluation and episode
in, what it raises decided (`domain.evaluation_schedule`), the timer and the event written.

`read_episode` and `open_escalations` answer the routes' queries, deciding access with `access`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from services.pathway import access
from services.pathway.domain.episode_facts import build_facts
from services.pathway.domain.evaluation_schedule import (
    EVALUATION_DUE,
    EVALUATION_OVERDUE,
    Firing,
    MoveFirstEvaluation,
    PlanChange,
    RecordEvaluation,
    ScheduledEvaluation,
    StopEvaluations,
    UnknownEvaluation,
    evaluation_correlation_id,
    evaluation_due,
    evaluation_overdue,
    fired_event_id,
    first_evaluation_due_at,
    next_evaluation,
    plan_changes,
    timer_id_for,
    what_fires,
)
from services.pathway.domain.guideline import CURRENT, DEFAULT_REGISTRY, evaluate
from services.pathway.domain.reactions import PathwayMemory, react
from services.pathway.store import PathwayStore, episodes, timers
from shared.access_log import Access, Action, log_access
from shared.auth import Caller
from shared.clock import Clock
from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.events import intake
from shared.events.pathway import EvaluationScheduled
from shared.events.payload import EventPayload
from shared.store.event_store import EventStore, PendingEvent, StoredEvent
from shared.store.unit_of_work import UnitOfWork

RULES = DEFAULT_REGISTRY.get(CURRENT)
EVALUATION_INTERVAL = timedelta(days=RULES.evaluation_interval_days)


@dataclass
class EpisodeState:
    """One episode as the batch sees it: intake's events so far, the pathway's own, who referred it."""

    version: int  # of the pathway's stream before this batch
    intake_events: list[tuple[int, EventPayload]] = field(default_factory=list)  # (stream version, payload)
    # The pathway's own, incl. this batch's decisions; the evaluations the plan changes newly schedule are
    # announced at the write, which the guideline's memory (`PathwayMemory`) does not look at.
    decided: list[EventPayload] = field(default_factory=list)
    referrer_agb: str | None = None

    def intake_until(self, stream_version: int) -> list[EventPayload]:
        return [payload for version, payload in self.intake_events if version <= stream_version]


async def on_intake_events(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    await episodes.keep_intake_copies(uow.conn, events)
    await episodes.record_parties(
        uow.conn, [(e.envelope.subject, e.payload) for e in events if isinstance(e.payload, intake.ReferralReceived)]
    )
    states = await _load(uow, list(dict.fromkeys(e.envelope.subject for e in events)))
    first_timers = await _schedule_first_evaluations(uow.conn, events)
    # Decide every event first, in arrival order, in memory; then write what changed in the evaluation plans.
    decisions = [_decide(states[event.envelope.subject], event, first_timers) for event in events]
    pending: list[PendingEvent] = []
    for event, (decided, changes) in zip(events, decisions, strict=True):
        planned = await _write_plan_changes(uow.conn, event.envelope.subject, changes)
        pending += [
            PendingEvent(event.envelope.subject, p, event.envelope.correlationid, event.envelope.id, RULES.version)
            for p in [*decided, *planned]
        ]
    await uow.append_many({subject: state.version for subject, state in states.items()}, pending)


def _first_evaluation_due(event: ConsumedEvent) -> datetime:
    return first_evaluation_due_at(event.envelope.time, EVALUATION_INTERVAL)


async def _schedule_first_evaluations(conn: asyncpg.Connection, events: Sequence[ConsumedEvent]) -> set[uuid.UUID]:
    """The first evaluation of every episode referred in the batch, planned in one statement before anything
    is decided (an episode closed later in the same batch cancels it, as one event at a time would);
    returns the timers that are new."""
    referrals = [e for e in events if isinstance(e.payload, intake.ReferralReceived)]
    return await timers.schedule_many(
        conn, [(e.envelope.subject, EVALUATION_DUE, 1, _first_evaluation_due(e)) for e in referrals]
    )


def _decide(
    episode: EpisodeState, event: ConsumedEvent, first_timers: set[uuid.UUID]
) -> tuple[list[EventPayload], list[PlanChange]]:
    """What the pathway records because of one intake event (the first evaluation planned on a referral, its
    timer already in `first_timers` when new, and every guideline decision that changed) and what the event
    changes in the episode's evaluation plan. In memory only: `episode` takes the decisions."""
    decided: list[EventPayload] = []
    if isinstance(event.payload, intake.ReferralReceived):
        timer_id = timer_id_for(event.envelope.subject, EVALUATION_DUE, 1)
        if timer_id in first_timers:
            first_timers.discard(timer_id)  # announced once, however often the referral came
            due_at = _first_evaluation_due(event)
            decided.append(EvaluationScheduled(timer_id=timer_id, evaluation_number=1, due_at=due_at))
    history = episode.intake_until(event.envelope.streamversion)
    facts = build_facts(history, event.envelope.time.date())
    changes: list[PlanChange] = []
    if facts is not None:
        memory = PathwayMemory.rebuild([*episode.decided, *decided])
        decided += react(memory, evaluate(facts, version=RULES.version), event.payload, episode.referrer_agb)
        changes = plan_changes(event.payload, event.envelope.time, decided, EVALUATION_INTERVAL)
    episode.decided.extend(decided)
    return decided, changes


async def _write_plan_changes(
    conn: asyncpg.Connection, episode_id: str, changes: list[PlanChange]
) -> list[EventPayload]:
    """Keep the durable timers in step with the episode's plan; announce every evaluation newly planned."""
    planned: list[EventPayload] = []
    for change in changes:
        match change:
            case MoveFirstEvaluation():
                moved = await timers.move_first_evaluation(conn, episode_id, change.due_at)
                if moved is not None:
                    planned.append(
                        EvaluationScheduled(timer_id=moved.timer_id, evaluation_number=1, due_at=moved.due_at)
                    )
            case RecordEvaluation():
                try:
                    nxt = await evaluation_recorded(conn, episode_id, change.evaluation_number, change.at)
                except UnknownEvaluation:
                    continue  # measured an evaluation nobody planned: nothing to move on
                if nxt is not None and nxt.new:
                    planned.append(
                        EvaluationScheduled(
                            timer_id=nxt.timer_id, evaluation_number=nxt.evaluation_number, due_at=nxt.due_at
                        )
                    )
            case StopEvaluations():
                await timers.cancel_open_timers(conn, episode_id, change.at)
    return planned


async def evaluation_recorded(
    conn: asyncpg.Connection,
    episode_id: str,
    evaluation_number: int,
    at: datetime,
    *,
    interval: timedelta = EVALUATION_INTERVAL,
) -> ScheduledEvaluation | None:
    """Evaluation n was done at `at`: its open timers stop, and evaluation n+1 is planned one interval later.

    Recording the same evaluation again plans nothing new and returns the evaluation planned the first
    time. A closed episode plans nothing (None). The caller announces a new plan with `EvaluationScheduled`
    in the same transaction, as the referral handler does for the first evaluation.
    """
    await timers.lock_episode(conn, episode_id)
    if await timers.is_closed(conn, episode_id):
        return None
    if await timers.find(conn, episode_id, EVALUATION_DUE, evaluation_number) is None:
        raise UnknownEvaluation(episode_id, evaluation_number)
    recorded_at = await timers.record_evaluation(conn, episode_id, evaluation_number, at)
    next_number, due_at = next_evaluation(evaluation_number, recorded_at, interval)
    timer_id, new = await timers.schedule(conn, episode_id, EVALUATION_DUE, next_number, due_at)
    planned = await timers.find(conn, episode_id, EVALUATION_DUE, next_number)
    assert planned is not None  # just inserted, or there before; the episode lock keeps it so
    return ScheduledEvaluation(timer_id, next_number, planned.due_at, new)


async def _load(uow: UnitOfWork, episode_ids: list[str]) -> dict[str, EpisodeState]:
    registry = uow.store.registry
    own = await uow.store.read_streams(uow.conn, episode_ids)
    states = {
        episode_id: EpisodeState(
            version=len(own.get(episode_id, [])), decided=[e.payload(registry) for e in own.get(episode_id, [])]
        )
        for episode_id in episode_ids
    }
    for row in await episodes.intake_events_of(uow.conn, episode_ids):
        payload = registry.decode_json(row["event_type"], row["data_version"], row["data"])
        states[row["episode_id"]].intake_events.append((row["stream_version"], payload))
    for episode_id, referrer_agb in (await episodes.referrers_of(uow.conn, episode_ids)).items():
        states[episode_id].referrer_agb = referrer_agb
    return states


INTAKE_EVENTS = BatchHandler(types=(intake.ReferralReceived, *intake.CLINICAL_EVENTS), handle=on_intake_events)


async def on_timer_due(
    conn: asyncpg.Connection, events: EventStore, clock: Clock, timer: timers.Timer, now: datetime, grace: timedelta
) -> Firing:
    """A claimed timer fell due (the caller holds its episode's lock, in a savepoint): mark it spent, or mark it
    fired and append what it raised (planning the overdue check of an evaluation that fell due)."""
    episode_id, number = timer.episode_id, timer.sequence
    firing = what_fires(
        timer.kind,
        evaluation_recorded=await timers.is_recorded(conn, episode_id, number),
        episode_closed=await timers.is_closed(conn, episode_id),
    )
    if firing is Firing.NOTHING:
        await timers.mark_spent(conn, timer.timer_id, now)
        return firing
    payload: EventPayload
    if firing is Firing.EVALUATION_DUE:
        payload = evaluation_due(timer.timer_id, number, timer.due_at, now, grace)
        await timers.schedule(conn, episode_id, EVALUATION_OVERDUE, number, payload.overdue_after)
    else:
        evaluation = await timers.find(conn, episode_id, EVALUATION_DUE, number)
        if evaluation is None:
            raise LookupError(f"overdue timer {timer.timer_id} has no evaluation timer")
        payload = evaluation_overdue(evaluation.timer_id, number, evaluation.due_at, timer.due_at)
    await timers.mark_fired(conn, timer.timer_id, now)
    version = await events.stream_version(conn, episode_id)
    uow = UnitOfWork(conn, events, clock, correlation_id=evaluation_correlation_id(episode_id, number))
    await uow.append(
        episode_id, version, [payload], guideline_version=RULES.version, event_ids=[fired_event_id(timer.timer_id)]
    )
    return firing


@dataclass(frozen=True)
class EpisodeRecord:
    """What the pathway holds of one episode: its decisions, planned timers, intake facts and view row."""

    events: list[StoredEvent]
    planned: list[timers.Timer]
    facts: list[asyncpg.Record]  # intake events: event_id, event_type, occurred_at, stream_version
    view: dict | None  # the episode view's row, None until the guideline decided anything


async def read_episode(
    store: PathwayStore, caller: Caller, episode_id: uuid.UUID, clock: Clock
) -> EpisodeRecord | None:
    """The episode as the pathway knows it, read in one transaction and logged as read; None when the pathway
    does not know it or the caller may not see it."""
    async with store.transaction() as conn:
        if not access.may_see_episode(caller, await episodes.parties_of(conn, str(episode_id))):
            return None
        record = EpisodeRecord(
            events=await store.events.read_stream(conn, str(episode_id)),
            planned=await timers.for_episode(conn, str(episode_id)),
            facts=await episodes.intake_facts_of(conn, str(episode_id)),
            view=await episodes.view_row_of(conn, str(episode_id)),
        )
        await log_access(
            conn, caller, Access("pathway", Action.READ, "GET /v1/episodes/{episode_id}", episode_id), clock.now()
        )
    return record


async def open_escalations(store: PathwayStore, caller: Caller) -> list[tuple[str, list[dict]]]:
    """(episode id, escalations) of the caller's open episodes with escalations."""
    party, agb = access.escalations_scope(caller)
    async with store.connection() as conn:
        return await episodes.open_escalations(conn, party, agb)
