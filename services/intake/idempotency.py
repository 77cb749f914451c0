"""Idempotency-Key for POSTs: the first answer is stored with the command's effects, in one transaction;
a retry with the same key and body gets that answer again, a different body under the same key is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
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


def lookup(org: str, key: str) -> str:
    """SQL for the answer stored under a key, `org` and `key` the placeholders for the caller's organisation and
    the key: for `once`, or for a command's own statement that looks the key up along with other things."""
    return (
        "SELECT route, request_hash, status_code, body::text AS body FROM idempotency_keys"
        f" WHERE caller_org = {org} AND key = {key}"
    )


_LOOKUP = lookup("$1", "$2")


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
    seen = None if key is None else await conn.fetchrow(_LOOKUP, caller.org, key)
    return await replay_or_produce(conn, caller, key, route, body, now, produce, seen)


async def replay_or_produce(
    conn: asyncpg.Connection,
    caller: Caller,
    key: str | None,
    route: str,
    body: Any,
    now: datetime,
    produce: Produce,
    seen: Mapping[str, Any] | None,
) -> tuple[int, Any]:
    """`once` for a caller that looked the key up itself, with `lookup` (`seen`: the row found, or None): the
    stored answer, a refusal when the key was used for another request, or `produce`'s answer, stored.

    An episode command looks it up in the statement that finds and locks the episode's patient, saving a
    round trip (see handlers.open_for_command, which also sees to it that a retry that waited for the first
    request finds its answer)."""
    if key is None:
        return await produce()
    if not 1 <= len(key) <= 200:
        raise DomainRejected("must be 1 to 200 characters", "Idempotency-Key")
    digest = request_hash(route, body)
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
