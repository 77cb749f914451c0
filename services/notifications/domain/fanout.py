"""From kept events to deliveries: which subscriptions want each event, and which verwijzers' subscribers
get an escalation to acknowledge.

A delivery's `position` (its arrival order) is what a subscriber's lane sends by (`ordering.py`), and the
lane numbers deliveries as it sends them; so the deliveries are chosen, and queued, in the order of the events.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.notifications.domain.filters import EpisodeParties, Filter, Party, matches
from services.notifications.domain.ordering import ESCALATION_PRIORITY
from shared.events.pathway import EscalatedToReferrer


@dataclass(frozen=True)
class KeptEvent:
    """An event notifications keeps (received_events), as fanning it out needs it."""

    event_id: uuid.UUID
    position: int
    source: str
    event_type: str
    subject: str
    occurred_at: datetime
    causation_id: uuid.UUID | None
    hold_until: datetime | None
    stream_version: int | None = None  # its place in its source's stream of the episode (read for the walk)


@dataclass(frozen=True)
class Candidate:
    """A subscription that may want some of the events: not gone, its filter names one of their AGB codes."""

    subscription_id: uuid.UUID
    subscriber: str
    event_types: list[str]
    filter_party: str
    filter_agb: str


@dataclass(frozen=True)
class Delivery:
    subscription_id: uuid.UUID
    event: KeptEvent
    priority: int


@dataclass(frozen=True)
class Escalation:
    subscriber: str
    event_id: uuid.UUID


@dataclass(frozen=True)
class Fanout:
    deliveries: list[Delivery]
    escalations: list[Escalation]


def agbs(parties: EpisodeParties) -> list[str]:
    """The AGB codes a subscription's filter can name for this episode (each once)."""
    return list(dict.fromkeys(a for a in (parties.practice_agb, parties.referrer_agb) if a))


def choose(events: Sequence[tuple[KeptEvent, EpisodeParties]], candidates: Sequence[Candidate]) -> Fanout:
    """Deliveries for the subscriptions that want each event (in the order of `events`), and an escalation
    for each referrer's subscriber that gets an EscalatedToReferrer."""
    by_agb: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_agb.setdefault(candidate.filter_agb, []).append(candidate)
    deliveries: list[Delivery] = []
    escalations: list[Escalation] = []
    for event, parties in events:
        chosen = [c for agb in agbs(parties) for c in by_agb.get(agb, []) if _wants(c, parties, event.event_type)]
        deliveries.extend(Delivery(c.subscription_id, event, _priority(event)) for c in chosen)
        if event.event_type == EscalatedToReferrer.event_type:
            referrers = sorted({c.subscriber for c in chosen if c.filter_party == Party.REFERRER.value})
            escalations.extend(Escalation(subscriber, event.event_id) for subscriber in referrers)
    return Fanout(deliveries, escalations)


def _wants(subscription: Candidate, parties: EpisodeParties, event_type: str) -> bool:
    wanted = Filter(Party(subscription.filter_party), subscription.filter_agb)
    return matches(wanted, list(subscription.event_types), parties, event_type)


def _priority(event: KeptEvent) -> int:
    return ESCALATION_PRIORITY if event.event_type == EscalatedToReferrer.event_type else 0
