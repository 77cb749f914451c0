"""Notifications' own copy of the events it consumed (received_events): what is known of arrivals, keeping them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.notifications.domain.filters import EpisodeParties
from services.notifications.domain.routing import Arrival, Known
from shared.events.envelope import Envelope


@dataclass(frozen=True)
class KeptEvent:
    event_id: uuid.UUID
    position: int
    source: str
    event_type: str
    subject: str
    occurred_at: datetime
    causation_id: uuid.UUID | None
    hold_until: datetime | None


KEPT_COLUMNS = "event_id, position, source, event_type, subject, occurred_at, causation_id, hold_until"

# Each test is a scalar subquery with LIMIT 1, not EXISTS: Postgres may plan an EXISTS over many input rows
# as one hashed scan of the whole table, and a prepared statement keeps such a plan made while the table was
# small — a full scan of received_events per batch, growing with the table. These always probe the indexes.
_KNOWN = """
SELECT coalesce((SELECT true FROM received_events r WHERE r.event_id = a.event_id LIMIT 1), false) AS seen,
       p.episode_id IS NOT NULL AS parties_known, p.practice_agb, p.referrer_agb,
       coalesce((SELECT true FROM received_events r WHERE r.subject = a.subject AND r.fanned_out_at IS NULL
                 LIMIT 1), false) AS episode_held,
       coalesce((SELECT true FROM received_events r WHERE r.causation_id = a.event_id AND r.fanned_out_at IS NULL
                 LIMIT 1), false) AS others_wait,
       (a.causation_id IS NULL OR coalesce((SELECT true FROM received_events r WHERE r.event_id = a.causation_id
                                             AND r.fanned_out_at IS NOT NULL LIMIT 1), false)) AS cause_out
FROM unnest($1::uuid[], $2::text[], $3::uuid[]) WITH ORDINALITY AS a(event_id, subject, causation_id, n)
LEFT JOIN episode_parties p ON p.episode_id = a.subject
ORDER BY a.n
"""


async def known_of(conn: asyncpg.Connection, arrivals: Sequence[Arrival]) -> list[Known]:
    """What is known of each arrival, in one query (take the episodes' locks first)."""
    rows = await conn.fetch(
        _KNOWN,
        [a.event_id for a in arrivals],
        [a.subject for a in arrivals],
        [a.causation_id for a in arrivals],
    )
    return [
        Known(
            seen=r["seen"],
            parties=EpisodeParties(r["practice_agb"], r["referrer_agb"]) if r["parties_known"] else None,
            episode_held=r["episode_held"],
            others_wait=r["others_wait"],
            cause_out=r["cause_out"],
        )
        for r in rows
    ]


async def keep(
    conn: asyncpg.Connection, envelopes: Sequence[Envelope], now: datetime, causal_hold: timedelta, *, fanned_out: bool
) -> list[KeptEvent]:
    """Keep the events, in the order given (their positions follow it), as fanned out or as held; returns
    those kept now, in that order (an event kept already is left out)."""
    rows = await conn.fetch(
        "INSERT INTO received_events (event_id, source, event_type, subject, occurred_at, causation_id, body,"
        " received_at, hold_until, fanned_out_at)"
        " SELECT e.id, e.source, e.type, e.subject, e.time, e.causation, e.body, $8, $9, $10"
        " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::uuid[], $7::bytea[])"
        " WITH ORDINALITY AS e(id, source, type, subject, time, causation, body, n) ORDER BY e.n"
        f" ON CONFLICT (event_id) DO NOTHING RETURNING {KEPT_COLUMNS}",
        [e.id for e in envelopes],
        [e.source for e in envelopes],
        [e.type for e in envelopes],
        [e.subject for e in envelopes],
        [e.time for e in envelopes],
        [e.causationid for e in envelopes],
        [e.to_json() for e in envelopes],
        now,
        now + causal_hold,
        now if fanned_out else None,
    )
    return sorted((KeptEvent(**dict(r)) for r in rows), key=lambda e: e.position)
