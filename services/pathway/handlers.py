"""Pathway's consumer: intake events in, guideline decisions and evaluation plans out.

Events arrive in batches. A batch keeps its copies and parties in one statement each, loads what it needs of
every episode it touches in three, decides event by event in arrival order (each decision sees the
episode as it stood after the events before it), and appends every decision in one statement.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from services.pathway import episode_parties, timers
from services.pathway.domain.episode_facts import build_facts
from services.pathway.domain.evaluation_schedule import EVALUATION_DUE
from services.pathway.domain.guideline import CURRENT, DEFAULT_REGISTRY, evaluate
from services.pathway.domain.reactions import PathwayMemory, react
from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.events import intake
from shared.events.pathway import EvaluationCompleted, EvaluationScheduled
from shared.events.payload import EventPayload
from shared.store.event_store import PendingEvent
from shared.store.unit_of_work import UnitOfWork

RULES = DEFAULT_REGISTRY.get(CURRENT)
EVALUATION_INTERVAL = timedelta(days=RULES.evaluation_interval_days)


@dataclass
class EpisodeState:
    """One episode as the batch sees it: intake's events so far, the pathway's own, who referred it."""

    version: int  # of the pathway's stream before this batch
    intake_events: list[tuple[int, EventPayload]] = field(default_factory=list)  # (stream version, payload)
    decided: list[EventPayload] = field(default_factory=list)  # the pathway's own, incl. this batch's
    referrer_agb: str | None = None

    def intake_until(self, stream_version: int) -> list[EventPayload]:
        return [payload for version, payload in self.intake_events if version <= stream_version]


async def on_intake_events(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    await _keep_copies(uow.conn, events)
    await episode_parties.record(
        uow.conn, [(e.envelope.subject, e.payload) for e in events if isinstance(e.payload, intake.ReferralReceived)]
    )
    episodes = await _load(uow, list(dict.fromkeys(e.envelope.subject for e in events)))
    first_timers = await _schedule_first_evaluations(uow.conn, events)
    pending: list[PendingEvent] = []
    for event in events:
        episode = episodes[event.envelope.subject]
        decided = await _decide(uow, episode, event, first_timers)
        episode.decided.extend(decided)
        pending += [
            PendingEvent(event.envelope.subject, p, event.envelope.correlationid, event.envelope.id, RULES.version)
            for p in decided
        ]
    await uow.append_many({subject: state.version for subject, state in episodes.items()}, pending)


def _first_evaluation_due(event: ConsumedEvent) -> datetime:
    return event.envelope.time + EVALUATION_INTERVAL


async def _schedule_first_evaluations(conn: asyncpg.Connection, events: Sequence[ConsumedEvent]) -> set[uuid.UUID]:
    """The first evaluation of every episode referred in the batch, planned in one statement before anything
    is decided (an episode closed later in the same batch cancels it, as one event at a time would);
    returns the timers that are new."""
    referrals = [e for e in events if isinstance(e.payload, intake.ReferralReceived)]
    return await timers.schedule_many(
        conn, [(e.envelope.subject, EVALUATION_DUE, 1, _first_evaluation_due(e)) for e in referrals]
    )


async def _decide(
    uow: UnitOfWork, episode: EpisodeState, event: ConsumedEvent, first_timers: set[uuid.UUID]
) -> list[EventPayload]:
    """What the pathway records because of one intake event: the first evaluation planned on a referral (its
    timer already in `first_timers` when new), every guideline decision that changed, and the evaluations
    newly planned."""
    decided: list[EventPayload] = []
    if isinstance(event.payload, intake.ReferralReceived):
        timer_id = timers.timer_id_for(event.envelope.subject, EVALUATION_DUE, 1)
        if timer_id in first_timers:
            first_timers.discard(timer_id)  # announced once, however often the referral came
            due_at = _first_evaluation_due(event)
            decided.append(EvaluationScheduled(timer_id=timer_id, evaluation_number=1, due_at=due_at))
    history = episode.intake_until(event.envelope.streamversion)
    facts = build_facts(history, event.envelope.time.date())
    if facts is None:
        return decided
    memory = PathwayMemory.rebuild([*episode.decided, *decided])
    decided += react(memory, evaluate(facts, version=RULES.version), event.payload, episode.referrer_agb)
    decided += await _timers_follow(uow.conn, event, decided)
    return decided


async def _timers_follow(
    conn: asyncpg.Connection, event: ConsumedEvent, decided: list[EventPayload]
) -> list[EventPayload]:
    """Keep the durable timers in step with the episode; announce every evaluation newly planned."""
    episode_id = event.envelope.subject
    at = event.envelope.time
    planned: list[EventPayload] = []
    trigger = event.payload
    if isinstance(trigger, intake.TreatmentPlanAgreed):
        start = datetime.combine(trigger.start_date, at.timetz())
        moved = await timers.move_first_evaluation(conn, episode_id, start)
        if moved is not None:
            planned.append(EvaluationScheduled(timer_id=moved.timer_id, evaluation_number=1, due_at=moved.due_at))
    for completed in (e for e in decided if isinstance(e, EvaluationCompleted)):
        try:
            nxt = await timers.evaluation_recorded(conn, episode_id, completed.evaluation_number, at)
        except timers.UnknownEvaluation:
            continue  # measured an evaluation nobody planned: nothing to move on
        if nxt is not None and nxt.new:
            planned.append(
                EvaluationScheduled(timer_id=nxt.timer_id, evaluation_number=nxt.evaluation_number, due_at=nxt.due_at)
            )
    if isinstance(trigger, intake.EpisodeClosed):
        await timers.cancel_open_timers(conn, episode_id, at)
    return planned


async def _keep_copies(conn: asyncpg.Connection, events: Sequence[ConsumedEvent]) -> None:
    await conn.execute(
        "INSERT INTO intake_events (episode_id, stream_version, event_id, event_type, data_version, occurred_at,"
        " data) SELECT e, v, i, t, d, o, j::jsonb"
        " FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::timestamptz[], $7::text[])"
        " AS c(e, v, i, t, d, o, j) ON CONFLICT DO NOTHING",
        [e.envelope.subject for e in events],
        [e.envelope.streamversion for e in events],
        [e.envelope.id for e in events],
        [e.envelope.type for e in events],
        [e.envelope.dataversion for e in events],
        [e.envelope.time for e in events],
        [json.dumps(e.envelope.data) for e in events],
    )


async def _load(uow: UnitOfWork, episode_ids: list[str]) -> dict[str, EpisodeState]:
    registry = uow.store.registry
    own = await uow.store.read_streams(uow.conn, episode_ids)
    episodes = {
        episode_id: EpisodeState(
            version=len(own.get(episode_id, [])), decided=[e.payload(registry) for e in own.get(episode_id, [])]
        )
        for episode_id in episode_ids
    }
    for row in await uow.conn.fetch(
        "SELECT episode_id, stream_version, event_type, data_version, data::text AS data FROM intake_events"
        " WHERE episode_id = ANY($1::text[]) ORDER BY episode_id, stream_version",
        episode_ids,
    ):
        payload = registry.decode_json(row["event_type"], row["data_version"], row["data"])
        episodes[row["episode_id"]].intake_events.append((row["stream_version"], payload))
    for episode_id, referrer_agb in (await episode_parties.referrers_of(uow.conn, episode_ids)).items():
        episodes[episode_id].referrer_agb = referrer_agb
    return episodes


INTAKE_EVENTS = BatchHandler(types=(intake.ReferralReceived, *intake.CLINICAL_EVENTS), handle=on_intake_events)
