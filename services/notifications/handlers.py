"""Notifications consumes every event type on the topics it reads: referrals teach it an episode's parties,
and every event is kept and fanned out to the subscriptions that want it (or held until it may be)."""

from __future__ import annotations

from datetime import timedelta

from services.notifications import fanout
from services.notifications.settings import NotificationsSettings
from shared.consumer.idempotent import ConsumedEvent, Handler
from shared.events import REGISTRY
from shared.events.intake import ReferralReceived
from shared.events.payload import EventPayload
from shared.events.topics import topics_consumed_by
from shared.store.unit_of_work import UnitOfWork


def handlers_for(settings: NotificationsSettings) -> dict[type[EventPayload], Handler]:
    causal_hold = timedelta(seconds=settings.causal_hold_seconds)

    async def on_event(event: ConsumedEvent, uow: UnitOfWork) -> None:
        now = uow.clock.now()
        if isinstance(event.payload, ReferralReceived):
            await fanout.record_parties(uow.conn, event.envelope.subject, event.payload, now)
        await fanout.receive(uow.conn, event.envelope, now, causal_hold)

    return {model: on_event for topic in topics_consumed_by("notifications") for model in REGISTRY.types_on(topic)}
