"""From kept events to deliveries: the subscriptions that want each, and escalations for the verwijzer.

A delivery's `position` (its arrival order) is what a subscriber's lane sends by (domain/ordering.py), and
the lane numbers deliveries as it sends them; so deliveries are inserted in the order of the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.notifications.domain.filters import EpisodeParties, Filter, Party, matches
from services.notifications.domain.ordering import ESCALATION_PRIORITY
from services.notifications.received import KeptEvent
from shared.events.pathway import EscalatedToReferrer

_DELIVERIES = """
INSERT INTO deliveries (delivery_id, subscription_id, event_id, event_type, subject, priority, causation_id,
                        occurred_at, next_attempt_at, created_at)
SELECT gen_random_uuid(), d.subscription_id, d.event_id, d.event_type, d.subject, d.priority, d.causation_id,
       d.occurred_at, $8, $8
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::smallint[], $6::uuid[], $7::timestamptz[])
     WITH ORDINALITY AS d(subscription_id, event_id, event_type, subject, priority, causation_id, occurred_at, n)
ORDER BY d.n
ON CONFLICT (subscription_id, event_id) DO NOTHING
"""

_ESCALATIONS = """
INSERT INTO escalations (subscriber, event_id, episode_id, details, raised_at)
SELECT x.subscriber, x.event_id, e.subject, convert_from(e.body, 'UTF8')::jsonb -> 'data', e.occurred_at
FROM unnest($1::text[], $2::uuid[]) AS x(subscriber, event_id) JOIN received_events e USING (event_id)
ON CONFLICT DO NOTHING
"""


async def fan_out(conn: asyncpg.Connection, events: Sequence[tuple[KeptEvent, EpisodeParties]], now: datetime) -> None:
    """Deliveries for the subscriptions that want each event (in the order of `events`), and an escalation
    for each referrer's subscriber that gets an EscalatedToReferrer."""
    if not events:
        return
    candidates = await conn.fetch(
        "SELECT subscription_id, subscriber, event_types, filter_party, filter_agb FROM subscriptions"
        " WHERE state <> 'gone' AND filter_agb = ANY ($1::text[]) AND event_types && $2::text[]",
        list({agb for _, parties in events for agb in _agbs(parties)}),
        list({event.event_type for event, _ in events}),
    )
    by_agb: dict[str, list[asyncpg.Record]] = {}
    for candidate in candidates:
        by_agb.setdefault(candidate["filter_agb"], []).append(candidate)
    deliveries: list[tuple[asyncpg.Record, KeptEvent]] = []
    escalations: list[tuple[str, KeptEvent]] = []
    for event, parties in events:
        chosen = [c for agb in _agbs(parties) for c in by_agb.get(agb, []) if _wants(c, parties, event.event_type)]
        deliveries.extend((c, event) for c in chosen)
        if event.event_type == EscalatedToReferrer.event_type:
            referrers = sorted({c["subscriber"] for c in chosen if c["filter_party"] == Party.REFERRER.value})
            escalations.extend((subscriber, event) for subscriber in referrers)
    if deliveries:
        await conn.execute(
            _DELIVERIES,
            [c["subscription_id"] for c, _ in deliveries],
            [e.event_id for _, e in deliveries],
            [e.event_type for _, e in deliveries],
            [e.subject for _, e in deliveries],
            [_priority(e) for _, e in deliveries],
            [e.causation_id for _, e in deliveries],
            [e.occurred_at for _, e in deliveries],
            now,
        )
    if escalations:
        await conn.execute(_ESCALATIONS, [s for s, _ in escalations], [e.event_id for _, e in escalations])


def _agbs(parties: EpisodeParties) -> list[str]:
    """The AGB codes a subscription's filter can name for this episode (each once)."""
    return list(dict.fromkeys(a for a in (parties.practice_agb, parties.referrer_agb) if a))


def _wants(subscription: asyncpg.Record, parties: EpisodeParties, event_type: str) -> bool:
    wanted = Filter(Party(subscription["filter_party"]), subscription["filter_agb"])
    return matches(wanted, list(subscription["event_types"]), parties, event_type)


def _priority(event: KeptEvent) -> int:
    return ESCALATION_PRIORITY if event.event_type == EscalatedToReferrer.event_type else 0
