"""Pathway event handlers: plain functions from a consumed event and a unit of work to new events."""

from __future__ import annotations

from datetime import timedelta

from services.pathway import timers
from services.pathway.domain.guideline import CURRENT, DEFAULT_REGISTRY
from shared.consumer.idempotent import ConsumedEvent, Handler
from shared.events.intake import ReferralReceived
from shared.events.pathway import EvaluationScheduled
from shared.events.payload import EventPayload
from shared.store.unit_of_work import UnitOfWork

EVALUATION = "evaluation_due"
RULES = DEFAULT_REGISTRY.get(CURRENT)
EVALUATION_INTERVAL = timedelta(days=RULES.evaluation_interval_days)


async def on_referral_received(event: ConsumedEvent, uow: UnitOfWork) -> None:
    """Plan the first evaluation three weeks after the referral arrived, as a durable timer."""
    episode_id = event.envelope.subject
    referral = event.payload
    assert isinstance(referral, ReferralReceived)
    await uow.conn.execute(
        "INSERT INTO episode_parties (episode_id, practice_agb, referrer_agb) VALUES ($1, $2, $3)"
        " ON CONFLICT (episode_id) DO NOTHING",
        episode_id,
        referral.practice_agb,
        referral.referrer_agb,
    )
    due_at = event.envelope.time + EVALUATION_INTERVAL
    timer_id, new = await timers.schedule(uow.conn, episode_id, EVALUATION, 1, due_at)
    if not new:
        return
    version = await uow.store.stream_version(uow.conn, episode_id)
    await uow.append(
        episode_id,
        version,
        [EvaluationScheduled(timer_id=timer_id, evaluation_number=1, due_at=due_at)],
        guideline_version=RULES.version,
    )


HANDLERS: dict[type[EventPayload], Handler] = {
    ReferralReceived: on_referral_received,
}
