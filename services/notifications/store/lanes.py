"""A subscriber's lane: its lease (and the owner's lock behind it), its next deliveries, numbering them and
recording attempts; the statements of the delivery loop (`delivery_loop/dispatcher.py`)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.notifications.domain.breaker import Breaker
from services.notifications.domain.messages import ContentMode
from services.notifications.domain.ordering import Pending
from services.notifications.domain.outcome import Attempt, Decision
from shared.db import DATABASE_UNAVAILABLE
from shared.events.envelope import Envelope


@dataclass(frozen=True)
class Lane:
    """What a lane needs of its subscription, read while it holds the lease."""

    subscription_id: uuid.UUID
    endpoint_url: str
    content_mode: ContentMode
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    breaker: Breaker


@dataclass(frozen=True)
class Outgoing:
    """A delivery about to be sent, with its number and the event it carries."""

    delivery_id: uuid.UUID
    sequence: int
    round_attempts: int
    envelope: Envelope


# A lease is another process's while it runs: every dispatcher holds a session advisory lock named after its
# owner for as long as it runs (`hold_owner_lock`), and PostgreSQL drops it the moment that process's
# connection goes (a SIGKILL included). A lease whose owner holds no such lock is free at once, not only when
# it lapses; the lapse still frees a lease whose owner's database session lives on but no longer sends.
_OWNER_LOCK = "hashtextextended('lane-owner:' || {owner}, 0)"
_LIVE_OWNERS = """
live_owners AS (
    SELECT (l.classid::int8 << 32) | l.objid::int8 AS lock_key FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
"""
_LEASE_FREE = (
    "({t}lane_lease_until IS NULL OR {t}lane_lease_until < clock_timestamp() OR {t}lane_owner = $2"
    " OR " + _OWNER_LOCK.format(owner="{t}lane_owner") + " NOT IN (SELECT lock_key FROM live_owners))"
)

# Head of each active lane: its lowest-numbered pending delivery, else its oldest unnumbered one. A lane is
# due when that head is due, its breaker lets an attempt through, and no other live process holds its lease.
_DUE_LANES = f"""
WITH {_LIVE_OWNERS}
SELECT s.subscription_id
FROM subscriptions s
CROSS JOIN LATERAL (
    SELECT d.next_attempt_at FROM deliveries d
    WHERE d.subscription_id = s.subscription_id AND d.status = 'pending'
    ORDER BY d.sequence, d.position LIMIT 1) head
WHERE s.state = 'active' AND head.next_attempt_at <= $1
  AND (s.breaker_open_until IS NULL OR s.breaker_open_until <= $1)
  AND {_LEASE_FREE.format(t="s.")}
LIMIT $3
"""

_TAKE_LANE = f"""
WITH {_LIVE_OWNERS}
UPDATE subscriptions SET lane_owner = $2, lane_lease_until = clock_timestamp() + make_interval(secs => $3)
WHERE subscription_id = $1 AND state = 'active' AND {_LEASE_FREE.format(t="")}
RETURNING endpoint_url, content_mode, secret, previous_secret, previous_secret_until, breaker_failures,
    breaker_open_until
"""


async def hold_owner_lock(conn: asyncpg.Connection, owner: str) -> None:
    """Mark `owner` as running for as long as `conn`'s session lasts (or until `release_owner_lock`)."""
    await conn.execute(f"SELECT pg_advisory_lock({_OWNER_LOCK.format(owner='$1::text')})", owner)


async def release_owner_lock(conn: asyncpg.Connection, owner: str) -> None:
    await conn.execute(f"SELECT pg_advisory_unlock({_OWNER_LOCK.format(owner='$1::text')})", owner)


@contextlib.asynccontextmanager
async def owner_session(pool: asyncpg.Pool, owner: str) -> AsyncIterator[None]:
    """Hold the owner's lock on a connection of its own for the block: the leases of `owner` count as taken
    only while it runs (a killed process's lanes are free at once, not after the lease)."""
    conn = await pool.acquire()
    try:
        await hold_owner_lock(conn, owner)
        yield
    finally:
        try:
            await release_owner_lock(conn, owner)  # pooled connections are not reset
        except DATABASE_UNAVAILABLE:
            conn.terminate()  # the session, and with it the lock, ends
        await pool.release(conn)


async def due_lanes(conn: asyncpg.Connection, now: datetime, owner: str, limit: int) -> list[uuid.UUID]:
    return [r["subscription_id"] for r in await conn.fetch(_DUE_LANES, now, owner, limit)]


async def take_lane(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, owner: str, lease_seconds: float
) -> Lane | None:
    """Take or extend the lease on an active subscription's lane and read what sending needs; None when
    another running process holds it or the subscription is not active."""
    row = await conn.fetchrow(
        _TAKE_LANE,
        subscription_id,
        owner,
        lease_seconds,
    )
    if row is None:
        return None
    return Lane(
        subscription_id,
        row["endpoint_url"],
        ContentMode(row["content_mode"]),
        row["secret"],
        row["previous_secret"],
        row["previous_secret_until"],
        Breaker(row["breaker_failures"], row["breaker_open_until"]),
    )


async def release_lanes(conn: asyncpg.Connection, owner: str) -> None:
    """Hand back every lease of this process (on shutdown), so another process can go on at once."""
    await conn.execute(
        "UPDATE subscriptions SET lane_owner = NULL, lane_lease_until = NULL WHERE lane_owner = $1", owner
    )


async def pending_window(conn: asyncpg.Connection, subscription_id: uuid.UUID, window: int) -> list[Pending]:
    """The oldest pending deliveries (numbered first), plus every pending one of an episode that has a
    pending escalation, so an escalation can go ahead without overtaking its own episode."""
    rows = await conn.fetch(
        """
        (SELECT delivery_id, position, subject, event_id, causation_id, sequence, priority, next_attempt_at
         FROM deliveries WHERE subscription_id = $1 AND status = 'pending'
         ORDER BY sequence, position LIMIT $2)
        UNION
        (SELECT delivery_id, position, subject, event_id, causation_id, sequence, priority, next_attempt_at
         FROM deliveries WHERE subscription_id = $1 AND status = 'pending' AND subject IN (
             SELECT subject FROM deliveries WHERE subscription_id = $1 AND status = 'pending' AND priority > 0
             ORDER BY position LIMIT 20))
        """,
        subscription_id,
        window,
    )
    return [Pending(**dict(r)) for r in rows]


async def number_and_load(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, planned: list[Pending]
) -> list[Outgoing]:
    """Give the unnumbered ones the next sequence numbers, in plan order, and load the events."""
    fresh = [p.delivery_id for p in planned if p.sequence is None]
    numbers: dict[uuid.UUID, int] = {p.delivery_id: p.sequence for p in planned if p.sequence is not None}
    if fresh:
        first = await conn.fetchval(
            "UPDATE subscriptions SET next_sequence = next_sequence + $2 WHERE subscription_id = $1"
            " RETURNING next_sequence - $2",
            subscription_id,
            len(fresh),
        )
        numbers.update({delivery_id: first + i for i, delivery_id in enumerate(fresh)})
        await conn.execute(
            "UPDATE deliveries d SET sequence = n.sequence FROM unnest($1::uuid[], $2::bigint[]) AS n(id, sequence)"
            " WHERE d.delivery_id = n.id",
            fresh,
            [numbers[d] for d in fresh],
        )
    rows = await conn.fetch(
        "SELECT d.delivery_id, d.round_attempts, e.body FROM deliveries d JOIN received_events e USING (event_id)"
        " WHERE d.delivery_id = ANY ($1::uuid[])",
        [p.delivery_id for p in planned],
    )
    by_id = {r["delivery_id"]: r for r in rows}
    return [
        Outgoing(
            p.delivery_id,
            numbers[p.delivery_id],
            by_id[p.delivery_id]["round_attempts"],
            Envelope.from_json(by_id[p.delivery_id]["body"]),
        )
        for p in planned
        if p.delivery_id in by_id
    ]


_RECORD = """
WITH attempt AS (
    INSERT INTO delivery_attempts (delivery_id, attempted_at, status_code, latency_ms, error)
    VALUES ($1, $2, $3, $4, $5)
), delivery AS (
    UPDATE deliveries SET status = $6, next_attempt_at = $7, attempts = attempts + 1,
        round_attempts = round_attempts + 1,
        first_attempt_at = coalesce(first_attempt_at, $2), last_status_code = $3, last_error = $5,
        delivered_at = CASE WHEN $6 = 'delivered' THEN $2 ELSE delivered_at END,
        dead_at = CASE WHEN $6 = 'dead' THEN $2 ELSE NULL END
    WHERE delivery_id = $1
)
UPDATE subscriptions SET breaker_failures = $8, breaker_open_until = $9,
    state = CASE WHEN $10 THEN 'gone' ELSE state END,
    state_reason = CASE WHEN $10 THEN 'the endpoint answered 410 Gone' ELSE state_reason END,
    state_changed_at = CASE WHEN $10 THEN $2 ELSE state_changed_at END,
    lane_lease_until = clock_timestamp() + make_interval(secs => $13)
WHERE subscription_id = $11 AND lane_owner = $12
RETURNING state
"""


async def record_attempt(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    owner: str,
    lease_seconds: float,
    delivery_id: uuid.UUID,
    attempt: Attempt,
    decision: Decision,
    now: datetime,
) -> str | None:
    """Store the attempt, move the delivery on, update the breaker; the subscription's state, or None when
    the lane is no longer ours."""
    return await conn.fetchval(
        _RECORD,
        delivery_id,
        now,
        attempt.status_code,
        attempt.latency_ms,
        attempt.error,
        decision.status.value,
        decision.next_attempt_at,
        decision.breaker.failures,
        decision.breaker.open_until,
        decision.deactivate,
        subscription_id,
        owner,
        lease_seconds,
    )
