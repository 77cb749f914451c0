"""Pathway's handlers: load → decide (domain) → write (store), one function per event batch or query.

`on_intake_events` is the consumer's: intake events in, guideline decisions and evaluation plans out.
Events arrive in batches. A batch keeps its copies and parties in one statement each, loads what it needs of
every episode it touches in three (its own events, intake's copies, the referrers), decides event by event in
arrival order in memory (`domain.episode_decisions.decide`, the fold the network's what-if runs too: each
decision sees the episode as it stood after the events before it),
then writes the timers the plans decided (`store.timers.write_plans`, consecutive new timers in one
statement) and appends every decision in one statement.

`on_timer_due` fires one durable timer the scheduler claimed: the episode's events in, what the timer raises
decided from them (`EvaluationPlan.firing`), the timer and the event written.

`read_episode`, `open_escalations` and `attention_by_practice` answer the routes' queries, deciding access
with `access`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from services.pathway import access
from services.pathway.domain.episode_decisions import EpisodeState, IntakeFact, RulesCache, decide
from services.pathway.domain.evaluation_plan import EvaluationPlan, Firing, TimerWrite, overdue_check
from services.pathway.domain.evaluation_schedule import (
    evaluation_correlation_id,
    evaluation_due,
    evaluation_overdue,
    fired_event_id,
)
from services.pathway.domain.protocol import (
    Protocol,
    Refused,
    adoption_event,
    check_adoption,
    check_guideline,
    entry_in_force,
    in_force,
    overdue_grace_under,
    recorded_protocol_version,
)
from services.pathway.domain.what_if import Cell, EpisodeDifference, PracticeCounts, add_counts
from services.pathway.store import PathwayStore, episodes, history, protocols, timers
from services.pathway.store.protocols import Adoption
from services.pathway.what_if_worker import Found, redecide, redecide_episodes, worker_started
from shared import tracing
from shared.access_log import Access, Action, log_access
from shared.auth import Caller, Role
from shared.clock import Clock
from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.db import DatabaseAddress
from shared.events import intake
from shared.events.payload import EventPayload
from shared.store.event_store import EventStore, PendingEvent, StoredEvent
from shared.store.unit_of_work import UnitOfWork

RULES = RulesCache()  # the engine's rules under each protocol, built once


def _decision_attributes(protocol: Protocol) -> dict[str, str | int]:
    """The span of each event's guideline decision names the versions it was decided under."""
    return {
        "ruggengraat.guideline_version": protocol.guideline_version,
        "ruggengraat.protocol_version": protocol.version,
    }


async def on_intake_events(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    await episodes.keep_intake_copies(uow.conn, events)
    await episodes.record_parties(
        uow.conn, [(e.envelope.subject, e.payload) for e in events if isinstance(e.payload, intake.ReferralReceived)]
    )
    first_versions: dict[str, int] = {}
    for event in events:
        subject = event.envelope.subject
        first_versions[subject] = min(
            first_versions.get(subject, event.envelope.streamversion), event.envelope.streamversion
        )
    states = await _load(uow, first_versions)
    adopted = await protocols.adopted(uow.conn, uow.store)
    # Decide every event, in arrival order, in memory; then write the timers the plans decided, in that order,
    # and append every decision in one statement.
    pending: list[PendingEvent] = []
    writes: list[tuple[str, TimerWrite]] = []
    for event in events:
        fact = IntakeFact(event.envelope.streamversion, event.envelope.time, event.payload)
        protocol = in_force(adopted, event.envelope.time.date())
        with tracing.span(
            "guideline decide", cause=event.envelope.id, attributes=_decision_attributes(protocol)
        ) as span:
            decided, plan_writes = decide(states[event.envelope.subject], fact, RULES.of(protocol))
            if span is not None:
                span.set_attribute("ruggengraat.decisions", [p.event_type for p in decided])
        writes += [(event.envelope.subject, write) for write in plan_writes]
        pending += [
            PendingEvent(
                event.envelope.subject,
                p,
                event.envelope.correlationid,
                event.envelope.id,
                protocol.guideline_version,
                protocol_version=recorded_protocol_version(protocol),
            )
            for p in decided
        ]
    await timers.write_plans(uow.conn, writes)
    await uow.append_many({subject: state.version for subject, state in states.items()}, pending)


async def _load(uow: UnitOfWork, first_versions: dict[str, int]) -> dict[str, EpisodeState]:
    """Each episode of the batch (its first intake version in the batch, by episode id) as it stood before it."""
    registry = uow.store.registry
    own = await uow.store.read_streams(uow.conn, list(first_versions))
    states: dict[str, EpisodeState] = {}
    for episode_id in first_versions:
        decided = [e.payload(registry) for e in own.get(episode_id, [])]
        states[episode_id] = EpisodeState(len(decided), EvaluationPlan.of(episode_id, decided), decided=decided)
    for row in await episodes.intake_events_of(uow.conn, list(states)):
        payload = registry.decode_json(row["event_type"], row["data_version"], row["data"])
        state = states[row["episode_id"]]
        state.intake_events.append((row["stream_version"], payload))
        if row["stream_version"] < first_versions[row["episode_id"]]:
            state.plan.see(payload)  # what intake said before this batch (its closing); the batch's, as decided
    for episode_id, (_, referrer_agb) in (await episodes.parties_of_episodes(uow.conn, list(states))).items():
        states[episode_id].referrer_agb = referrer_agb
    return states


INTAKE_EVENTS = BatchHandler(types=(intake.ReferralReceived, *intake.CLINICAL_EVENTS), handle=on_intake_events)


async def on_timer_due(
    conn: asyncpg.Connection, events: EventStore, clock: Clock, timer: timers.Timer, now: datetime, grace: timedelta
) -> Firing:
    """A claimed timer fell due (the caller holds its episode's lock, in a savepoint): mark it spent, or mark it
    fired and append what it raised (planning the overdue check of an evaluation that fell due). Whether it
    raises anything is decided from the episode's events (`EvaluationPlan.firing`)."""
    episode_id, number = timer.episode_id, timer.sequence
    protocol = in_force(await protocols.adopted(conn, events), timer.due_at.date())
    grace = overdue_grace_under(protocol, grace)
    own = [e.payload(events.registry) for e in await events.read_stream(conn, episode_id)]
    plan = EvaluationPlan.of(episode_id, own)
    plan.closed = await episodes.is_closed(conn, episode_id)
    firing = plan.firing(timer.kind, number)
    if firing is Firing.NOTHING:
        await timers.mark_spent(conn, timer.timer_id, now)
        return firing
    payload: EventPayload
    if firing is Firing.EVALUATION_DUE:
        payload = evaluation_due(timer.timer_id, number, timer.due_at, now, grace)
        await timers.write_plans(conn, [(episode_id, overdue_check(payload))])
    else:
        due = plan.fell_due_of(number)
        payload = evaluation_overdue(due.timer_id, number, due.due_at, timer.due_at)
    await timers.mark_fired(conn, timer.timer_id, now)
    uow = UnitOfWork(conn, events, clock, correlation_id=evaluation_correlation_id(episode_id, number))
    await uow.append(
        episode_id,
        len(own),
        [payload],
        guideline_version=protocol.guideline_version,
        protocol_version=recorded_protocol_version(protocol),
        event_ids=[fired_event_id(timer.timer_id)],
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


async def attention_by_practice(store: PathwayStore) -> list[asyncpg.Record]:
    """Per practice: open escalations and overdue evaluations (counts; operators, `access.OPERATORS`)."""
    async with store.connection() as conn:
        return await episodes.attention_by_practice(conn)


async def open_escalations(store: PathwayStore, caller: Caller) -> list[tuple[str, list[dict]]]:
    """(episode id, escalations) of the caller's open episodes with escalations."""
    party, agb = access.escalations_scope(caller)
    async with store.connection() as conn:
        return await episodes.open_escalations(conn, party, agb)


# ---- the network's protocol ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolHistory:
    """The adoption in force today (None: the guideline as written) and every adoption, in the order adopted."""

    in_force: Adoption | None
    adopted: list[Adoption]


async def protocol_history(store: PathwayStore, clock: Clock) -> ProtocolHistory:
    async with store.connection() as conn:
        adopted = await protocols.adoptions(conn, store.events)
    current = entry_in_force([a.adopted for a in adopted], clock.now().date())
    return ProtocolHistory(next((a for a in adopted if a.adopted is current), None), adopted)


async def adopt_protocol(
    store: PathwayStore, caller: Caller, protocol: Protocol, effective_from: date, clock: Clock
) -> Adoption:
    """Adopt a protocol version for every decision from `effective_from` on (`protocol.check_adoption` says when
    it may not: raises `Refused`). Two adoptions at once: one wins, the other raises ConcurrencyConflict."""
    async with store.transaction() as conn:
        adopted = await protocols.adoptions(conn, store.events)
        check_adoption([a.adopted for a in adopted], protocol, effective_from, clock.now().date())
        uow = UnitOfWork(conn, store.events, clock)
        [appended] = await uow.append(
            protocols.STREAM,
            len(adopted),
            [adoption_event(protocol, effective_from, caller.org)],
            guideline_version=protocol.guideline_version,
            protocol_version=protocol.version,
        )
    return protocols.adoption_of(appended, store.events)


@dataclass(frozen=True)
class WhatIf:
    """A draft protocol tried on the episodes referred in a period: per practice and month the counts, and, for a
    practice asking, its own episodes that would differ."""

    episodes: int
    counts: dict[Cell, PracticeCounts]  # by practice and month of referral
    differences: list[EpisodeDifference]  # a practice's own differing episodes, in referral order; none for others


async def what_if(
    store: PathwayStore,
    address: DatabaseAddress,
    caller: Caller,
    draft: Protocol,
    start: datetime,
    end: datetime,
    clock: Clock,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 1000,
) -> WhatIf:
    """Re-decide every episode referred in [start, end) — a practice's own only, when a practice asks — from the
    facts as recorded under `draft`, and say what differs from the decisions recorded (`domain.what_if`): counts
    for everyone, the differing episodes for a practice only. Works in chunks of `chunk_size` episodes, beside the
    event loop: one chunk is read here and re-decided in a thread; more go to a process per core, each reading its
    chunks itself from `address` (the store's schema). `progress(done, total)` after each chunk. Raises `Refused`
    for a draft on a guideline version the engine does not hold."""
    reason = check_guideline(draft)
    if reason is not None:
        raise Refused("draft.guideline_version", reason)
    practice = caller.org if caller.role is Role.PRACTICE else None
    now = clock.now()
    async with store.connection() as conn:
        episode_ids = await history.referred_between(conn, start, end, practice)
    chunks = [episode_ids[first : first + chunk_size] for first in range(0, len(episode_ids), chunk_size)]
    counts: dict[Cell, PracticeCounts] = {}
    differences: list[EpisodeDifference] = []
    done = 0

    def finished(found: Found, size: int) -> None:
        nonlocal done
        add_counts(counts, found[0])
        differences.extend(found[1])
        done += size
        if progress is not None:
            progress(done, len(episode_ids))

    listed = practice is not None
    if len(chunks) <= 1:  # a practice's months, a small network: a thread, so the event loop stays free
        for chunk in chunks:
            async with store.connection() as conn:
                rows = await history.history_rows(conn, chunk)
                recorded = await history.recorded_rows(conn, store.events, chunk)
            finished(await asyncio.to_thread(redecide, rows, recorded, draft, now, listed), len(chunk))
    else:  # every core reads and re-decides its chunks
        loop = asyncio.get_running_loop()
        workers = max(1, os.cpu_count() or 1)
        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker_started,
            initargs=(address, store.events.service),
        ) as pool:
            running = [
                (loop.run_in_executor(pool, redecide_episodes, chunk, draft, now, listed), len(chunk))
                for chunk in chunks
            ]
            try:
                for future, size in running:
                    finished(await future, size)
            except BaseException:  # the database went away, say: the chunks not yet done are dropped
                pool.shutdown(wait=False, cancel_futures=True)
                for future, _ in running:
                    future.cancel()
                await asyncio.gather(*(future for future, _ in running), return_exceptions=True)
                raise
    differences.sort(key=lambda d: (d.referred_on, d.episode_id))
    return WhatIf(done, counts, differences)
