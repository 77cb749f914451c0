"""Notifications' handlers: load (store) → decide (domain) → write (store), for each consumed batch, for the
sweep of held events whose cause is overdue, and for each command on a subscription (from the routes).

Notifications consumes every event type a subscriber can subscribe to (`EventRegistry.subscribable`) on the
topics it reads: referrals teach it an episode's parties, and every event is kept and fanned out to the
subscriptions that want it (or held until it may be).

The events of a consumed batch are received together, in the batch's transaction: one lock statement for
all their episodes, one query for what is known of them, then (domain/routing.py) runs of events that go
out at once — kept, matched and delivered a few statements per run — and, one by one in arrival order,
the events that walk their episode's held events (`settle_episode`, by domain/holding.py). A walk runs
inside the consumer's transaction (with its inbox row) or the sweep's, holding the episode's lock.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import asyncpg

from services.notifications.domain.endpoints import check_endpoint_url, refused_address
from services.notifications.domain.fanout import KeptEvent, agbs, choose
from services.notifications.domain.filters import EpisodeParties, Filter
from services.notifications.domain.holding import hold_reason, walk_order
from services.notifications.domain.messages import ContentMode
from services.notifications.domain.routing import Arrival, AtOnce, route
from services.notifications.domain.subscriptions import ACTIVE, PAUSED, pause_refusal
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore, deliveries, escalations, received, subscriptions
from services.notifications.store.episodes import lock_episodes, parties_of, record_parties
from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.events import REGISTRY
from shared.events.intake import ReferralReceived
from shared.events.topics import topics_consumed_by
from shared.http import DomainRejected
from shared.logging import get_logger
from shared.store.unit_of_work import UnitOfWork

log = get_logger(__name__)


def batch_handler_for(settings: NotificationsSettings) -> BatchHandler:
    causal_hold = timedelta(seconds=settings.causal_hold_seconds)

    async def handle(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
        await receive(uow.conn, events, uow.clock.now(), causal_hold)

    topics = topics_consumed_by("notifications")
    return BatchHandler(types=tuple(m for m in REGISTRY.subscribable() if m.topic in topics), handle=handle)


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


async def fan_out(conn: asyncpg.Connection, events: Sequence[tuple[KeptEvent, EpisodeParties]], now: datetime) -> None:
    """Deliveries for the subscriptions that want each event (in the order of `events`), and an escalation
    for each referrer's subscriber that gets an EscalatedToReferrer (domain/fanout.py)."""
    if not events:
        return
    candidates = await subscriptions.candidates(
        conn,
        list({agb for _, parties in events for agb in agbs(parties)}),
        list({event.event_type for event, _ in events}),
    )
    chosen = choose(events, candidates)
    await deliveries.add(conn, chosen.deliveries, now)
    await escalations.add(conn, chosen.escalations)


async def settle_episode(conn: asyncpg.Connection, episode_id: str, now: datetime) -> None:
    """Walk the episode's held events in arrival order, fanning out each that may go now.

    Fanning one out can unblock events of other episodes that wait for it as their cause; those episodes
    are walked next (each under its own lock).
    """
    todo: deque[str] = deque([episode_id])
    walked_locks = {episode_id}
    while todo:
        subject = todo.popleft()
        if subject not in walked_locks:
            await lock_episodes(conn, [subject])
            walked_locks.add(subject)
        parties = await parties_of(conn, subject)
        blocked_sources: set[str] = set()
        progressed = still_held = False
        for held in walk_order(await received.held_of(conn, subject)):
            reason = hold_reason(
                parties_known=parties is not None,
                earlier_of_same_source_held=held.source in blocked_sources,
                cause_pending=await received.cause_pending(conn, held.causation_id),
                cause_deadline_passed=held.hold_until is not None and held.hold_until <= now,
            )
            if reason is not None:
                blocked_sources.add(held.source)
                still_held = True
                await received.mark_held(conn, held.event_id, reason)
                continue
            assert parties is not None
            await fan_out(conn, [(held, parties)], now)
            await received.mark_fanned_out(conn, held.event_id, now)
            progressed = True
            todo.extend(await received.episodes_waiting_on(conn, held.event_id, subject))
        if progressed and still_held:
            todo.append(subject)  # an event fanned out late in this pass may be the cause of an earlier one


async def release_overdue(store: NotificationsStore, now: datetime, limit: int = 100) -> int:
    """Fan out events whose cause did not arrive before their deadline; returns how many episodes moved."""
    async with store.connection() as conn:
        overdue = await received.episodes_past_cause_deadline(conn, now, limit)
        for subject in overdue:
            async with conn.transaction():
                await lock_episodes(conn, [subject])
                await settle_episode(conn, subject, now)
        if overdue:
            log.warning("notifications.cause_hold_expired", episodes=len(overdue))
    return len(overdue)


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


# ---- commands on a subscription ----


async def create_subscription(
    store: NotificationsStore,
    subscriber: str,
    endpoint_url: str,
    event_types: list[str],
    wanted: Filter,
    mode: ContentMode,
    now: datetime,
    *,
    development: bool,
) -> subscriptions.Subscription:
    """A new subscription, unless its endpoint is refused (an internal address, or in production a host that
    does not resolve or resolves to one)."""
    refused = check_endpoint_url(endpoint_url, allow_loopback=development)
    if refused is None and not development:
        refused = await _refused_by_resolution(endpoint_url, allow_loopback=False)
    if refused:
        raise DomainRejected(refused, "endpoint_url")
    return await store.run(subscriptions.create, subscriber, endpoint_url, event_types, wanted, mode, now)


async def _refused_by_resolution(url: str, allow_loopback: bool) -> str | None:
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return f"the host {host} does not resolve"
    for info in infos:
        reason = refused_address(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]), allow_loopback=allow_loopback)
        if reason is not None:
            return reason
    return None


async def pause_subscription(
    store: NotificationsStore, subscription: subscriptions.Subscription, now: datetime, by: str = "the subscriber"
) -> subscriptions.Subscription:
    """Stop sending (events keep being queued), unless the subscription is gone; `by` is kept as the reason."""
    refusal = pause_refusal(subscription.state)
    if refusal is not None:
        raise DomainRejected(refusal, "state")
    return await _change_state(store, subscription.subscription_id, PAUSED, f"paused by {by}", now)


async def resume_subscription(
    store: NotificationsStore, subscription_id: uuid.UUID, now: datetime
) -> subscriptions.Subscription:
    """Send again (also after a 410 deactivated it), with the breaker closed."""
    return await _change_state(store, subscription_id, ACTIVE, None, now)


async def _change_state(
    store: NotificationsStore, subscription_id: uuid.UUID, state: str, reason: str | None, now: datetime
) -> subscriptions.Subscription:
    async with store.connection() as conn:
        await subscriptions.set_state(conn, subscription_id, state, reason, now)
        changed = await subscriptions.get(conn, subscription_id)
    assert changed is not None
    return changed


async def subscription_backlogs(store: NotificationsStore, now: datetime) -> list[asyncpg.Record]:
    """Every live subscription with its backlog, oldest undelivered event and breaker (for operators)."""
    return await store.run(deliveries.backlog, now)


async def delete_subscription(store: NotificationsStore, subscription_id: uuid.UUID) -> None:
    """The subscription goes, with its deliveries and their attempts."""
    await store.run(subscriptions.delete, subscription_id)


async def rotate_secret(
    store: NotificationsStore, subscription_id: uuid.UUID, overlap: timedelta, now: datetime
) -> subscriptions.Subscription:
    """A new secret signs from now on; the old one signs alongside it until the overlap ends."""
    return await store.run(subscriptions.rotate_secret, subscription_id, overlap, now)
