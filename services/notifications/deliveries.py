"""Deliveries: enqueued with the consumed event, sent as signed CloudEvents by the dispatcher."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook

from services.notifications import retry_policy
from shared.clock import Clock
from shared.consumer.idempotent import ConsumedEvent
from shared.logging import get_logger
from shared.store.unit_of_work import UnitOfWork

log = get_logger(__name__)

CLOUDEVENTS_JSON = "application/cloudevents+json"


async def enqueue(event: ConsumedEvent, uow: UnitOfWork) -> None:
    """One pending delivery per active subscription that wants this type, numbered per subscription."""
    now = uow.clock.now()
    body = event.envelope.to_json()
    await uow.conn.execute(
        """
        WITH wanted AS (
            UPDATE subscriptions SET next_sequence = next_sequence + 1
            WHERE active AND $1 = ANY (event_types)
            RETURNING subscription_id, next_sequence - 1 AS sequence
        )
        INSERT INTO deliveries (delivery_id, subscription_id, sequence, event_id, event_type, subject, body,
                                next_attempt_at, created_at)
        SELECT gen_random_uuid(), subscription_id, sequence, $2, $1, $3, $4, $5, $5 FROM wanted
        """,
        event.envelope.type,
        event.envelope.id,
        event.envelope.subject,
        body,
        now,
    )


@dataclass(frozen=True)
class Due:
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID
    sequence: int
    event_id: uuid.UUID
    body: bytes
    attempts: int
    endpoint_url: str
    secret: str


# Only the oldest pending delivery per subscription and episode is eligible, which keeps each
# subscriber's order per episode even when an earlier one is waiting for a retry.
_CLAIM = """
SELECT d.delivery_id, d.subscription_id, d.sequence, d.event_id, d.body, d.attempts, s.endpoint_url, s.secret
FROM deliveries d JOIN subscriptions s USING (subscription_id)
WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND s.active
  AND NOT EXISTS (
      SELECT 1 FROM deliveries e
      WHERE e.subscription_id = d.subscription_id AND e.subject = d.subject
        AND e.status = 'pending' AND e.sequence < d.sequence)
ORDER BY d.next_attempt_at, d.sequence
LIMIT $2
FOR UPDATE OF d SKIP LOCKED
"""


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: float
    error: str | None
    retry_after: timedelta | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def signed_headers(due: Due, sent_at: datetime) -> dict[str, str]:
    msg_id = str(due.delivery_id)
    signature = Webhook(due.secret).sign(msg_id, sent_at, due.body.decode())
    return {
        "content-type": CLOUDEVENTS_JSON,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "ruggengraat-sequence": str(due.sequence),
    }


async def attempt(client: httpx.AsyncClient, due: Due, timeout: float) -> AttemptResult:
    # The signature carries real time, not the service clock: receivers check it against theirs.
    sent_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        response = await client.post(
            due.endpoint_url, content=due.body, headers=signed_headers(due, sent_at), timeout=timeout
        )
    except httpx.HTTPError as error:
        return AttemptResult(None, (time.perf_counter() - started) * 1000, repr(error), None)
    latency = (time.perf_counter() - started) * 1000
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return AttemptResult(response.status_code, latency, error, _retry_after(response))


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        return max(parsedate_to_datetime(value) - datetime.now(UTC), timedelta(0))
    except (TypeError, ValueError):
        return None


async def record(conn: asyncpg.Connection, due: Due, result: AttemptResult, now: datetime) -> str:
    """Store the attempt and move the delivery on; returns its new status."""
    await conn.execute(
        "INSERT INTO delivery_attempts (delivery_id, attempted_at, status_code, latency_ms, error)"
        " VALUES ($1, $2, $3, $4, $5)",
        due.delivery_id,
        now,
        result.status_code,
        result.latency_ms,
        result.error,
    )
    attempts = due.attempts + 1
    if result.delivered:
        status, next_at = "delivered", now
    elif result.gone:
        status, next_at = "dead", now
        await conn.execute("UPDATE subscriptions SET active = false WHERE subscription_id = $1", due.subscription_id)
    elif attempts >= retry_policy.MAX_ATTEMPTS:
        status, next_at = "dead", now
    else:
        status, next_at = "pending", now + retry_policy.delay_after(attempts, result.retry_after)
    await conn.execute(
        "UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4,"
        " delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END WHERE delivery_id = $1",
        due.delivery_id,
        status,
        attempts,
        next_at,
        now,
    )
    return status


async def dispatch_once(
    pool: asyncpg.Pool, client: httpx.AsyncClient, clock: Clock, batch_size: int, timeout: float
) -> int:
    """Send what is due; rows stay locked while they are sent so two dispatchers never send one twice."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_CLAIM, clock.now(), batch_size)
        if not rows:
            return 0
        dues = [Due(**dict(r)) for r in rows]
        results = await asyncio.gather(*(attempt(client, d, timeout) for d in dues))
        now = clock.now()
        for due, result in zip(dues, results, strict=True):
            status = await record(conn, due, result, now)
            log.info(
                "notifications.attempt",
                delivery_id=str(due.delivery_id),
                subscription_id=str(due.subscription_id),
                status=status,
                status_code=result.status_code,
            )
    return len(dues)
