"""Notifications consumes every event type on the topics it reads: referrals teach it an episode's parties,
and every event is kept and fanned out to the subscriptions that want it (or held until it may be).

The events of a consumed batch are received together, in the batch's transaction: one lock statement for
all their episodes, one query for what is known of them, then (domain/routing.py) runs of events that go
out at once — kept, matched and delivered a few statements per run — and, one by one in arrival order,
the events that walk their episode's held events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import asyncpg

from services.notifications import received
from services.notifications.domain.filters import EpisodeParties
from services.notifications.domain.routing import Arrival, AtOnce, route
from services.notifications.episodes import lock_episodes, record_parties
from services.notifications.fanout import fan_out
from services.notifications.holds import settle_episode
from services.notifications.settings import NotificationsSettings
from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.events import REGISTRY
from shared.events.intake import ReferralReceived
from shared.events.topics import topics_consumed_by
from shared.store.unit_of_work import UnitOfWork


def batch_handler_for(settings: NotificationsSettings) -> BatchHandler:
    causal_hold = timedelta(seconds=settings.causal_hold_seconds)

    async def handle(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
        await receive(uow.conn, events, uow.clock.now(), causal_hold)

    types = tuple(model for topic in topics_consumed_by("notifications") for model in REGISTRY.types_on(topic))
    return BatchHandler(types=types, handle=handle)


async def receive(
    conn: asyncpg.Connection, events: Sequence[ConsumedEvent], now: datetime, causal_hold: timedelta
) -> None:
    """Keep the events and fan out each now or hold it, in arrival order; what one unblocks goes after it."""
    arrivals = [_arrival(event) for event in events]
    await lock_episodes(conn, {a.subject for a in arrivals})
    known = await received.known_of(conn, arrivals)
    envelopes = {event.envelope.id: event.envelope for event in events}
    for step in route(arrivals, known):
        if isinstance(step, AtOnce):
            await record_parties(conn, _learned(a for a, _ in step.arrivals), now)
            kept = await received.keep(
                conn, [envelopes[a.event_id] for a, _ in step.arrivals], now, causal_hold, fanned_out=True
            )
            parties = {a.event_id: p for a, p in step.arrivals}
            await fan_out(conn, [(event, parties[event.event_id]) for event in kept], now)
        else:
            arrival = step.arrival
            await record_parties(conn, _learned([arrival]), now)
            if await received.keep(conn, [envelopes[arrival.event_id]], now, causal_hold, fanned_out=False):
                await settle_episode(conn, arrival.subject, now)


def _arrival(event: ConsumedEvent) -> Arrival:
    envelope, payload = event.envelope, event.payload
    parties = (
        EpisodeParties(payload.practice_agb, payload.referrer_agb) if isinstance(payload, ReferralReceived) else None
    )
    return Arrival(envelope.id, envelope.subject, envelope.causationid, parties)


def _learned(arrivals: Iterable[Arrival]) -> dict[str, EpisodeParties]:
    """The parties the referrals among `arrivals` name, the first per episode."""
    learned: dict[str, EpisodeParties] = {}
    for arrival in arrivals:
        if arrival.parties is not None:
            learned.setdefault(arrival.subject, arrival.parties)
    return learned
