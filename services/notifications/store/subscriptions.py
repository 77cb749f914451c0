"""The subscriptions table: who wants which events of which episodes delivered where, and how; the candidates
for fanning events out. (A lane's lease and its breaker are written by `lanes.py`.)"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.notifications.domain.breaker import Breaker
from services.notifications.domain.fanout import Candidate
from services.notifications.domain.filters import Filter, Party
from services.notifications.domain.messages import ContentMode


@dataclass(frozen=True)
class Subscription:
    subscription_id: uuid.UUID
    subscriber: str
    endpoint_url: str
    event_types: list[str]
    filter: Filter | None
    content_mode: ContentMode
    state: str
    state_reason: str | None
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    breaker: Breaker
    next_sequence: int
    created_at: datetime


_COLUMNS = (
    "subscription_id, subscriber, endpoint_url, event_types, filter_party, filter_agb, content_mode, state,"
    " state_reason, secret, previous_secret, previous_secret_until, breaker_failures, breaker_open_until,"
    " next_sequence, created_at"
)


def from_row(row: asyncpg.Record) -> Subscription:
    party, agb = row["filter_party"], row["filter_agb"]
    return Subscription(
        subscription_id=row["subscription_id"],
        subscriber=row["subscriber"],
        endpoint_url=row["endpoint_url"],
        event_types=list(row["event_types"]),
        filter=Filter(Party(party), agb) if party and agb else None,
        content_mode=ContentMode(row["content_mode"]),
        state=row["state"],
        state_reason=row["state_reason"],
        secret=row["secret"],
        previous_secret=row["previous_secret"],
        previous_secret_until=row["previous_secret_until"],
        breaker=Breaker(row["breaker_failures"], row["breaker_open_until"]),
        next_sequence=row["next_sequence"],
        created_at=row["created_at"],
    )


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def create(
    conn: asyncpg.Connection,
    subscriber: str,
    endpoint_url: str,
    event_types: list[str],
    wanted: Filter,
    mode: ContentMode,
    now: datetime,
) -> Subscription:
    row = await conn.fetchrow(
        "INSERT INTO subscriptions (subscription_id, subscriber, endpoint_url, event_types, secret, created_at,"
        " filter_party, filter_agb, content_mode, state_changed_at)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6) RETURNING {_COLUMNS}",
        uuid.uuid4(),
        subscriber,
        endpoint_url,
        sorted(set(event_types)),
        new_secret(),
        now,
        wanted.party.value,
        wanted.agb,
        mode.value,
    )
    return from_row(row)


async def get(conn: asyncpg.Connection, subscription_id: uuid.UUID) -> Subscription | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM subscriptions WHERE subscription_id = $1", subscription_id)
    return from_row(row) if row else None


async def get_own(conn: asyncpg.Connection, subscription_id: uuid.UUID, subscriber: str) -> Subscription | None:
    """The subscription, only when it belongs to `subscriber` (another's answers like an unknown one)."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE subscription_id = $1 AND subscriber = $2",
        subscription_id,
        subscriber,
    )
    return from_row(row) if row else None


async def list_own(conn: asyncpg.Connection, subscriber: str) -> list[Subscription]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE subscriber = $1 ORDER BY created_at, subscription_id",
        subscriber,
    )
    return [from_row(r) for r in rows]


async def set_state(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, state: str, reason: str | None, now: datetime
) -> None:
    """Pause, resume or deactivate; resuming also closes the breaker so the lane starts at once."""
    await conn.execute(
        "UPDATE subscriptions SET state = $2, state_reason = $3, state_changed_at = $4,"
        " breaker_failures = CASE WHEN $2 = 'active' THEN 0 ELSE breaker_failures END,"
        " breaker_open_until = CASE WHEN $2 = 'active' THEN NULL ELSE breaker_open_until END"
        " WHERE subscription_id = $1",
        subscription_id,
        state,
        reason,
        now,
    )


async def rotate_secret(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, overlap: timedelta, now: datetime
) -> Subscription:
    """A new secret signs from now on; the old one signs alongside it until the overlap ends."""
    row = await conn.fetchrow(
        "UPDATE subscriptions SET previous_secret = secret, previous_secret_until = $3, secret = $2"
        f" WHERE subscription_id = $1 RETURNING {_COLUMNS}",
        subscription_id,
        new_secret(),
        now + overlap,
    )
    return from_row(row)


async def delete(conn: asyncpg.Connection, subscription_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM subscriptions WHERE subscription_id = $1", subscription_id)


async def candidates(conn: asyncpg.Connection, agbs: list[str], event_types: list[str]) -> list[Candidate]:
    """The subscriptions not gone whose filter names one of `agbs` and that want one of `event_types`."""
    rows = await conn.fetch(
        "SELECT subscription_id, subscriber, event_types, filter_party, filter_agb FROM subscriptions"
        " WHERE state <> 'gone' AND filter_agb = ANY ($1::text[]) AND event_types && $2::text[]",
        agbs,
        event_types,
    )
    return [
        Candidate(r["subscription_id"], r["subscriber"], list(r["event_types"]), r["filter_party"], r["filter_agb"])
        for r in rows
    ]
