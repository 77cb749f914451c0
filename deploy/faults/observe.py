"""Reads the system into the shapes `checks.py` and `progress.py` judge: the stores, inboxes, timers and
deliveries from PostgreSQL, and what the webhook endpoint got from the receiver process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import asyncpg
import httpx

from deploy.faults.checks import Attempt, Kept, StoredEvent, TimerRow
from deploy.faults.progress import Snapshot

STORES = ("intake", "pathway", "reporting", "notifications")


@cache
def flow() -> tuple[dict[str, str], dict[str, dict[str, tuple[str, ...]]]]:
    """(topic → the store producing it, consumer → {topic: the types it handles there}), from the services'
    own wiring: an event of a type a consumer has no handler for is ignored and never claimed in its inbox."""
    from services.notifications.handlers import batch_handler_for
    from services.notifications.settings import NotificationsSettings
    from services.pathway.handlers import INTAKE_EVENTS
    from services.reporting.handlers import BATCH_HANDLERS
    from shared.events import REGISTRY
    from shared.events.topics import TOPICS, topics_consumed_by

    handled = {
        "pathway": {t.event_type for t in INTAKE_EVENTS.types},
        "reporting": {t.event_type for handler in BATCH_HANDLERS for t in handler.types},
        "notifications": {t.event_type for t in batch_handler_for(NotificationsSettings()).types},
    }
    producers = {name: spec.producer for name, spec in TOPICS.items()}
    consumes = {
        consumer: {
            topic: tuple(sorted(m.event_type for m in REGISTRY.types_on(topic) if m.event_type in types))
            for topic in topics_consumed_by(consumer)
        }
        for consumer, types in handled.items()
    }
    return producers, consumes


def all_event_types() -> list[str]:
    """Every type a subscriber can subscribe to (each about an episode)."""
    from shared.events import REGISTRY

    return [m.event_type for m in REGISTRY.subscribable()]


# What tells two effects of one cause apart; for the timers' events the timer alone, for a referral the patient.
_DETAIL = """
CASE
  WHEN event_type LIKE '%.EvaluationDue' OR event_type LIKE '%.EvaluationOverdue' THEN data->>'timer_id'
  WHEN event_type LIKE '%.ReferralReceived' THEN data->>'patient_id'
  WHEN event_type LIKE '%.ReportSent' THEN data->>'letter_id'
  ELSE concat_ws('|', data->>'timer_id', data->>'evaluation_number', data->>'kind')
END
"""


async def connect(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url, timeout=3, command_timeout=20)


async def store_events(conn: asyncpg.Connection) -> list[StoredEvent]:
    events: list[StoredEvent] = []
    for store in STORES:
        if not await _exists(conn, f"{store}.events"):
            continue
        rows = await conn.fetch(
            f"SELECT event_id::text, event_type, stream_id, stream_version, causation_id::text, {_DETAIL} AS detail"
            f" FROM {store}.events ORDER BY transaction_id, position"
        )
        events += [
            StoredEvent(
                store,
                r["event_id"],
                r["event_type"],
                r["stream_id"],
                r["stream_version"],
                r["causation_id"],
                r["detail"] or "",
            )
            for r in rows
        ]
    return events


async def inboxes(conn: asyncpg.Connection, consumers: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    inbox, dead = {}, {}
    for consumer in consumers:
        inbox[consumer] = [
            r[0] for r in await conn.fetch(f"SELECT event_id::text FROM {consumer}.inbox WHERE consumer = $1", consumer)
        ]
        dead[consumer] = [
            r[0]
            for r in await conn.fetch(
                f"SELECT event_id::text FROM {consumer}.dead_letters WHERE consumer = $1 AND event_id IS NOT NULL",
                consumer,
            )
        ]
    return inbox, dead


async def timer_rows(conn: asyncpg.Connection) -> list[TimerRow]:
    rows = await conn.fetch("SELECT timer_id::text, kind, due_at, fired_at, cancelled_at FROM pathway.timers")
    return [TimerRow(r["timer_id"], r["kind"], r["due_at"], r["fired_at"], r["cancelled_at"]) for r in rows]


async def delivery_states(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT status, count(*) AS n FROM notifications.deliveries GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


async def _exists(conn: asyncpg.Connection, table: str) -> bool:
    return await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table)


async def snapshot(conn: asyncpg.Connection, at: float, now: datetime) -> Snapshot:
    """Every stage's backlog in one go (a handful of counting statements)."""
    producers, consumes = flow()
    unrelayed, counters = {}, []
    for topic, store in producers.items():
        checkpoint = await conn.fetchrow(
            f"SELECT transaction_id::text AS tx, position FROM {store}.relay_checkpoints WHERE topic = $1", topic
        )
        tx, position = (checkpoint["tx"], checkpoint["position"]) if checkpoint else ("0", 0)
        row = await conn.fetchrow(
            f"SELECT count(*) FILTER (WHERE (transaction_id, position) > ($1::text::xid8, $2::bigint)) AS behind,"
            f" count(*) AS n FROM {store}.events",
            tx,
            position,
        )
        unrelayed[store] = row["behind"]
        counters += [row["n"], row["n"] - row["behind"]]
    unconsumed = {}
    for consumer, per_topic in consumes.items():
        behind = 0
        for topic, types in per_topic.items():
            behind += await conn.fetchval(
                f"SELECT count(*) FROM {producers[topic]}.events e WHERE e.event_type = ANY($1::text[])"
                f" AND NOT EXISTS (SELECT 1 FROM {consumer}.inbox i WHERE i.consumer = $2 AND i.event_id = e.event_id)"
                f" AND NOT EXISTS (SELECT 1 FROM {consumer}.dead_letters d"
                f" WHERE d.consumer = $2 AND d.event_id = e.event_id)",
                list(types),
                consumer,
            )
        unconsumed[consumer] = behind
        counters.append(await conn.fetchval(f"SELECT count(*) FROM {consumer}.inbox"))
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM notifications.received_events WHERE fanned_out_at IS NULL) AS held,"
        " (SELECT count(*) FROM notifications.received_events) AS received_events,"
        " (SELECT count(*) FROM notifications.deliveries WHERE status = 'pending') AS pending,"
        " (SELECT count(*) FROM notifications.deliveries WHERE status = 'delivered') AS delivered,"
        " (SELECT count(*) FROM notifications.deliveries) AS deliveries,"
        " (SELECT count(*) FROM pathway.timers WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1)"
        "   AS timers_due,"
        " (SELECT count(*) FROM pathway.timers WHERE fired_at IS NOT NULL) AS fired",
        now,
    )
    counters += [row["received_events"], row["deliveries"], row["delivered"], row["fired"]]
    return Snapshot(
        at=at,
        unrelayed=unrelayed,
        unconsumed=unconsumed,
        held=row["held"],
        pending_deliveries=row["pending"],
        delivered=row["delivered"],
        timers_due=row["timers_due"],
        counters=tuple(counters),
    )


async def stalled_deliveries(conn: asyncpg.Connection) -> dict[str, Any]:
    """What a stall leaves in notifications, for the person who reads the campaign's directory: every pending
    delivery (its number, arrival, episode, cause, when it is due) and every subscription's lane and breaker."""
    deliveries = await conn.fetch(
        "SELECT subscription_id, delivery_id, sequence, position, subject, event_id, causation_id, priority,"
        " next_attempt_at, attempts, round_attempts, last_status_code, last_error"
        " FROM notifications.deliveries WHERE status = 'pending' ORDER BY subscription_id, sequence, position"
    )
    subscriptions = await conn.fetch(
        "SELECT subscription_id, state, breaker_failures, breaker_open_until, lane_owner, lane_lease_until,"
        " next_sequence FROM notifications.subscriptions"
    )
    return {
        "at": (await conn.fetchval("SELECT clock_timestamp()")).isoformat(),
        "deliveries": [{k: _plain(v) for k, v in r.items()} for r in deliveries],
        "subscriptions": [{k: _plain(v) for k, v in r.items()} for r in subscriptions],
    }


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)


@dataclass
class Observed:
    """Everything the checks need, read once after the drain; the receiver's side per endpoint."""

    events: list[StoredEvent]
    inbox: dict[str, list[str]]
    dead_letters: dict[str, list[str]]
    timers: list[TimerRow]
    delivery_states: dict[str, int]
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)
    kept: dict[str, list[Kept]] = field(default_factory=dict)
    attempt_log_full: dict[str, bool] = field(default_factory=dict)


async def observe(
    conn: asyncpg.Connection, receiver_base: str, endpoints: list[str], earlier: Mapping[str, list[Attempt]]
) -> Observed:
    _, consumes = flow()
    events = await store_events(conn)
    inbox, dead = await inboxes(conn, list(consumes))
    observed = Observed(events, inbox, dead, await timer_rows(conn), await delivery_states(conn))
    for endpoint in endpoints:
        attempts, full = await receiver_attempts(receiver_base, endpoint)
        observed.attempts[endpoint] = [*earlier.get(endpoint, []), *attempts]
        observed.attempt_log_full[endpoint] = full
        observed.kept[endpoint] = await receiver_kept(receiver_base, endpoint)
    return observed


# The receiver's attempt log keeps this many entries per endpoint (deploy/receiver.py); a full log lost some.
ATTEMPT_LOG_SIZE = 20_000


async def receiver_attempts(base: str, endpoint: str) -> tuple[list[Attempt], bool]:
    async with httpx.AsyncClient(timeout=60) as client:
        entries = (await client.get(f"{base}/_attempts/{endpoint}")).raise_for_status().json()["attempts"]
    attempts = [
        Attempt(e.get("webhook_id"), int(e.get("sequence") or 0), e.get("status"), e.get("event_id")) for e in entries
    ]
    return attempts, len(entries) >= ATTEMPT_LOG_SIZE


async def receiver_kept(base: str, endpoint: str) -> list[Kept]:
    async with httpx.AsyncClient(timeout=60) as client:
        events = (await client.get(f"{base}/_received/{endpoint}")).raise_for_status().json()["events"]
    return [Kept(e["id"], int(e["sequence"]), e["subject"], e["type"]) for e in events]


def expected_deliveries(events: list[StoredEvent], types: set[str]) -> set[str]:
    return {e.event_id for e in events if e.type in types}


def topic_stores() -> Mapping[str, str]:
    return flow()[0]
