"""Notifications' metrics: webhook attempts by outcome (counted as they happen), and per subscription the
backlog, the oldest undelivered event and the breaker (read from the database when /metrics is scraped)."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from prometheus_client import Counter, Gauge

from services.notifications.domain.outcome import DeliveryStatus
from services.notifications.store import deliveries

WEBHOOK_ATTEMPTS = Counter(
    "ruggengraat_webhook_attempts_total",
    "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), dead (given up)",
    ["outcome"],
)
_OUTCOME = {DeliveryStatus.DELIVERED: "delivered", DeliveryStatus.PENDING: "retry", DeliveryStatus.DEAD: "dead"}

PENDING = Gauge("ruggengraat_webhook_deliveries_pending", "Deliveries not delivered yet", ["subscription"])
RETRYING = Gauge(
    "ruggengraat_webhook_deliveries_retrying", "Pending deliveries that failed at least once", ["subscription"]
)
DEAD = Gauge("ruggengraat_webhook_deliveries_dead", "Deliveries given up, until re-driven", ["subscription"])
OLDEST_UNDELIVERED = Gauge(
    "ruggengraat_webhook_oldest_undelivered_age_seconds",
    "Age of the subscription's oldest pending delivery (0: none)",
    ["subscription"],
)
BREAKER_OPEN = Gauge("ruggengraat_webhook_breaker_open", "1 while the subscription's breaker is open", ["subscription"])
SUBSCRIPTIONS = Gauge("ruggengraat_webhook_subscriptions", "Subscriptions by state (gone ones left out)", ["state"])

_PER_SUBSCRIPTION = (PENDING, RETRYING, DEAD, OLDEST_UNDELIVERED, BREAKER_OPEN)


def attempted(status: DeliveryStatus) -> None:
    WEBHOOK_ATTEMPTS.labels(_OUTCOME[status]).inc()


async def refresh(conn: asyncpg.Connection, now: datetime) -> None:
    """Set the per-subscription gauges from the database (a subscription gone since the last scrape leaves)."""
    rows = await deliveries.backlog(conn, now)
    for gauge in (*_PER_SUBSCRIPTION, SUBSCRIPTIONS):
        gauge.clear()
    states: dict[str, int] = {"active": 0, "paused": 0}
    for row in rows:
        subscription = str(row["subscription_id"])
        states[row["state"]] = states.get(row["state"], 0) + 1
        PENDING.labels(subscription).set(row["pending"])
        RETRYING.labels(subscription).set(row["retrying"])
        DEAD.labels(subscription).set(row["dead"])
        oldest = row["oldest_pending_seconds"]
        OLDEST_UNDELIVERED.labels(subscription).set(max(float(oldest), 0.0) if oldest is not None else 0.0)
        BREAKER_OPEN.labels(subscription).set(1 if row["breaker_open"] else 0)
    for state, count in states.items():
        SUBSCRIPTIONS.labels(state).set(count)
