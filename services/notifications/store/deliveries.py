"""The deliveries table: adding a fanned-out event's deliveries; a subscription's deliveries with their
attempts, catch-up pages, replay and re-drive; every dead letter for operators."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.notifications.domain.fanout import Delivery
from services.notifications.domain.outcome import DeliveryStatus
from shared.access_log import Access, Action, log_access
from shared.auth import Caller

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


async def add(conn: asyncpg.Connection, deliveries: Sequence[Delivery], now: datetime) -> None:
    """Queue the deliveries, in the order given (their positions follow it); one already queued stays as it is."""
    if not deliveries:
        return
    await conn.execute(
        _DELIVERIES,
        [d.subscription_id for d in deliveries],
        [d.event.event_id for d in deliveries],
        [d.event.event_type for d in deliveries],
        [d.event.subject for d in deliveries],
        [d.priority for d in deliveries],
        [d.event.causation_id for d in deliveries],
        [d.event.occurred_at for d in deliveries],
        now,
    )


DELIVERY_COLUMNS = (
    "delivery_id, sequence, event_id, event_type, subject, status, attempts, next_attempt_at, delivered_at,"
    " dead_at, last_status_code, last_error, occurred_at, created_at, priority"
)


async def list_for(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    *,
    status: DeliveryStatus | None,
    after_sequence: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Numbered deliveries in sequence order, then the not yet numbered ones in arrival order."""
    return await conn.fetch(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = $1"
        " AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR sequence > $3)"
        " ORDER BY sequence NULLS LAST, position LIMIT $4",
        subscription_id,
        status.value if status else None,
        after_sequence,
        limit,
    )


async def get_one(conn: asyncpg.Connection, subscription_id: uuid.UUID, delivery_id: uuid.UUID):
    row = await conn.fetchrow(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = $1 AND delivery_id = $2",
        subscription_id,
        delivery_id,
    )
    if row is None:
        return None, []
    attempts = await conn.fetch(
        "SELECT attempted_at, status_code, latency_ms, error FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
        delivery_id,
    )
    return row, attempts


async def page(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    since_sequence: int | None,
    since_time: datetime | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Numbered deliveries after a sequence number or since an event time, with the events they carry."""
    return await conn.fetch(
        "SELECT d.delivery_id, d.sequence, d.status, e.body FROM deliveries d JOIN received_events e USING (event_id)"
        " WHERE d.subscription_id = $1 AND d.sequence IS NOT NULL"
        " AND ($2::bigint IS NULL OR d.sequence > $2) AND ($3::timestamptz IS NULL OR d.occurred_at >= $3)"
        " ORDER BY d.sequence LIMIT $4",
        subscription_id,
        since_sequence,
        since_time,
        limit,
    )


async def page_read_by(
    conn: asyncpg.Connection,
    caller: Caller,
    route: str,
    subscription_id: uuid.UUID,
    since_sequence: int | None,
    since_time: datetime | None,
    limit: int,
    now: datetime,
) -> list[asyncpg.Record]:
    """A `page`, with the read of each episode it shows in the access log, in one transaction."""
    async with conn.transaction():
        rows = await page(conn, subscription_id, since_sequence, since_time, limit)
        for episode in sorted({e for r in rows if (e := _episode_uuid(r["body"])) is not None}):
            await log_access(conn, caller, Access("notifications", Action.READ, route, episode), now)
    return rows


def _episode_uuid(body: bytes) -> uuid.UUID | None:
    """The episode an event is about, for the access log (subjects are episode ids)."""
    try:
        return uuid.UUID(json.loads(body)["subject"])
    except (KeyError, ValueError):
        return None


async def requeue(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    now: datetime,
    *,
    since_sequence: int | None = None,
    since_time: datetime | None = None,
    dead_only: bool = False,
    delivery_ids: list[uuid.UUID] | None = None,
) -> list[int]:
    """Send numbered deliveries again (with their own numbers, as a fresh round of attempts); returns the
    sequence numbers requeued."""
    rows = await conn.fetch(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $2, round_attempts = 0, dead_at = NULL,"
        " requeued = requeued + 1"
        " WHERE subscription_id = $1 AND sequence IS NOT NULL AND status <> 'pending'"
        " AND ($3::bigint IS NULL OR sequence > $3) AND ($4::timestamptz IS NULL OR occurred_at >= $4)"
        " AND (NOT $5 OR status = 'dead') AND ($6::uuid[] IS NULL OR delivery_id = ANY ($6::uuid[]))"
        " RETURNING sequence",
        subscription_id,
        now,
        since_sequence,
        since_time,
        dead_only,
        delivery_ids,
    )
    return sorted(r["sequence"] for r in rows)


async def all_dead(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Every subscription's dead letters, without the events (for operators)."""
    return await conn.fetch(
        "SELECT d.subscription_id, s.subscriber, d.delivery_id, d.sequence, d.event_id, d.event_type, d.attempts,"
        " d.last_status_code, d.last_error, d.dead_at FROM deliveries d JOIN subscriptions s USING (subscription_id)"
        " WHERE d.status = 'dead' ORDER BY d.dead_at, d.position LIMIT $1",
        limit,
    )


_BACKLOG = """
SELECT s.subscription_id, s.subscriber, s.endpoint_url, s.state, s.state_reason,
       coalesce(s.breaker_open_until > $1, false) AS breaker_open,
       count(d.delivery_id) FILTER (WHERE d.status = 'pending') AS pending,
       count(d.delivery_id) FILTER (WHERE d.status = 'pending' AND d.attempts > 0) AS retrying,
       count(d.delivery_id) FILTER (WHERE d.status = 'dead') AS dead,
       extract(epoch FROM $1 - min(d.created_at) FILTER (WHERE d.status = 'pending')) AS oldest_pending_seconds
FROM subscriptions s
LEFT JOIN deliveries d ON d.subscription_id = s.subscription_id AND d.status <> 'delivered'
WHERE s.state <> 'gone'
GROUP BY s.subscription_id
"""


async def backlog(conn: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    """Per live subscription: its subscriber, endpoint, state (and why), whether its breaker is open at `now`,
    its deliveries pending, pending after a failed attempt (the retry backlog), and dead, and the age of its
    oldest pending one (None: none)."""
    return list(await conn.fetch(_BACKLOG, now))
