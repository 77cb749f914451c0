"""Pathway event handlers: plain functions from a consumed event and a unit of work to new events."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from services.pathway import timers
from services.pathway.domain.episode_facts import build_facts
from services.pathway.domain.evaluation_schedule import EVALUATION_DUE
from services.pathway.domain.guideline import CURRENT, DEFAULT_REGISTRY, evaluate
from services.pathway.domain.reactions import PathwayMemory, react
from shared.consumer.idempotent import ConsumedEvent, Handler
from shared.events import intake
from shared.events.pathway import EvaluationCompleted, EvaluationScheduled
from shared.events.payload import EventPayload
from shared.store.unit_of_work import UnitOfWork

RULES = DEFAULT_REGISTRY.get(CURRENT)
EVALUATION_INTERVAL = timedelta(days=RULES.evaluation_interval_days)


async def on_referral_received(event: ConsumedEvent, uow: UnitOfWork) -> None:
    """Remember who may see the episode, and plan the first evaluation as a durable timer."""
    episode_id = event.envelope.subject
    referral = event.payload
    assert isinstance(referral, intake.ReferralReceived)
    await uow.conn.execute(
        "INSERT INTO episode_parties (episode_id, practice_agb, referrer_agb) VALUES ($1, $2, $3)"
        " ON CONFLICT (episode_id) DO NOTHING",
        episode_id,
        referral.practice_agb,
        referral.referrer_agb,
    )
    due_at = event.envelope.time + EVALUATION_INTERVAL
    timer_id, new = await timers.schedule(uow.conn, episode_id, EVALUATION_DUE, 1, due_at)
    if new:
        version = await uow.store.stream_version(uow.conn, episode_id)
        await uow.append(
            episode_id,
            version,
            [EvaluationScheduled(timer_id=timer_id, evaluation_number=1, due_at=due_at)],
            guideline_version=RULES.version,
        )
    await on_intake_event(event, uow)


async def on_intake_event(event: ConsumedEvent, uow: UnitOfWork) -> None:
    """Keep the event, rebuild the episode's facts, and record every guideline decision that changed."""
    episode_id = event.envelope.subject
    await uow.conn.execute(
        "INSERT INTO intake_events (episode_id, stream_version, event_id, event_type, data_version, occurred_at,"
        " data) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT DO NOTHING",
        episode_id,
        event.envelope.streamversion,
        event.envelope.id,
        event.envelope.type,
        event.envelope.dataversion,
        event.envelope.time,
        json.dumps(event.envelope.data),
    )
    rows = await uow.conn.fetch(
        "SELECT event_type, data_version, data::text AS data FROM intake_events WHERE episode_id = $1"
        " ORDER BY stream_version",
        episode_id,
    )
    history = [uow.store.registry.decode_json(r["event_type"], r["data_version"], r["data"]) for r in rows]
    facts = build_facts(history, event.envelope.time.date())
    if facts is None:
        return
    own = await uow.store.read_stream(uow.conn, episode_id)
    memory = PathwayMemory.rebuild(e.payload(uow.store.registry) for e in own)
    referrer = await uow.conn.fetchval("SELECT referrer_agb FROM episode_parties WHERE episode_id = $1", episode_id)
    decided = react(memory, evaluate(facts, version=RULES.version), event.payload, referrer)
    decided += await _timers_follow(uow, episode_id, event, decided)
    await uow.append(episode_id, len(own), decided, guideline_version=RULES.version)


async def _timers_follow(
    uow: UnitOfWork, episode_id: str, event: ConsumedEvent, decided: list[EventPayload]
) -> list[EventPayload]:
    """Keep the durable timers in step with the episode; announce every evaluation newly planned."""
    at = event.envelope.time
    planned: list[EventPayload] = []
    trigger = event.payload
    if isinstance(trigger, intake.TreatmentPlanAgreed):
        start = datetime.combine(trigger.start_date, at.timetz())
        moved = await timers.move_first_evaluation(uow.conn, episode_id, start)
        if moved is not None:
            planned.append(EvaluationScheduled(timer_id=moved.timer_id, evaluation_number=1, due_at=moved.due_at))
    for completed in (e for e in decided if isinstance(e, EvaluationCompleted)):
        try:
            nxt = await timers.evaluation_recorded(uow.conn, episode_id, completed.evaluation_number, at)
        except timers.UnknownEvaluation:
            continue  # measured an evaluation nobody planned: nothing to move on
        if nxt is not None and nxt.new:
            planned.append(
                EvaluationScheduled(timer_id=nxt.timer_id, evaluation_number=nxt.evaluation_number, due_at=nxt.due_at)
            )
    if isinstance(trigger, intake.EpisodeClosed):
        await timers.cancel_open_timers(uow.conn, episode_id, at)
    return planned


HANDLERS: dict[type[EventPayload], Handler] = {
    intake.ReferralReceived: on_referral_received,
    **{kind: on_intake_event for kind in intake.CLINICAL_EVENTS},
}
