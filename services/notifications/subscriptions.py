"""The subscriptions table and matching events to subscriptions."""

from __future__ import annotations

import base64
import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import asyncpg


@dataclass(frozen=True)
class Subscription:
    subscription_id: uuid.UUID
    subscriber: str
    endpoint_url: str
    event_types: list[str]
    secret: str
    active: bool
    created_at: datetime


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_endpoint_url(url: str, *, allow_loopback: bool) -> str | None:
    """The reason an endpoint URL is refused, or None when it is acceptable."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an absolute http(s) URL"
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    is_loopback = host == "localhost" or (address is not None and address.is_loopback)
    if is_loopback:
        return None if allow_loopback else "loopback addresses are allowed only in development"
    if parts.scheme != "https":
        return "must use https"
    if address is not None and (address.is_private or address.is_link_local or address.is_reserved):
        return "must not point at a private, link-local or reserved address"
    return None


async def create(
    conn: asyncpg.Connection, subscriber: str, endpoint_url: str, event_types: list[str], now: datetime
) -> Subscription:
    row = await conn.fetchrow(
        "INSERT INTO subscriptions (subscription_id, subscriber, endpoint_url, event_types, secret, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING subscription_id, subscriber, endpoint_url, event_types,"
        " secret, active, created_at",
        uuid.uuid4(),
        subscriber,
        endpoint_url,
        sorted(set(event_types)),
        new_secret(),
        now,
    )
    return Subscription(**dict(row))


async def get(conn: asyncpg.Connection, subscription_id: uuid.UUID) -> Subscription | None:
    row = await conn.fetchrow(
        "SELECT subscription_id, subscriber, endpoint_url, event_types, secret, active, created_at"
        " FROM subscriptions WHERE subscription_id = $1",
        subscription_id,
    )
    return Subscription(**dict(row)) if row else None
