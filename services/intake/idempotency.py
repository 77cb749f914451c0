"""Idempotency-Key for POSTs: the first answer is stored with the command's effects, in one transaction;
a retry with the same key and body gets that answer again, a different body under the same key is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
from fastapi.encoders import jsonable_encoder

from shared.auth import Caller
from shared.http import DomainRejected

Produce = Callable[[], Awaitable[tuple[int, Any]]]


def request_hash(route: str, body: Any) -> str:
    canonical = json.dumps(jsonable_encoder(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{route}\n{canonical}".encode()).hexdigest()


async def once(
    conn: asyncpg.Connection,
    caller: Caller,
    key: str | None,
    route: str,
    body: Any,
    now: datetime,
    produce: Produce,
) -> tuple[int, Any]:
    """Run `produce` unless this key was seen; call inside the command's transaction."""
    if key is None:
        return await produce()
    if not 1 <= len(key) <= 200:
        raise DomainRejected("must be 1 to 200 characters", "Idempotency-Key")
    digest = request_hash(route, body)
    seen = await conn.fetchrow(
        "SELECT route, request_hash, status_code, body::text AS body FROM idempotency_keys"
        " WHERE caller_org = $1 AND key = $2",
        caller.org,
        key,
    )
    if seen is not None:
        if seen["request_hash"] != digest or seen["route"] != route:
            raise DomainRejected("was used before for a different request", "Idempotency-Key")
        return seen["status_code"], json.loads(seen["body"])
    status, answer = await produce()
    await conn.execute(
        "INSERT INTO idempotency_keys (caller_org, key, route, request_hash, status_code, body, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
        caller.org,
        key,
        route,
        digest,
        status,
        json.dumps(jsonable_encoder(answer)),
        now,
    )
    return status, answer
