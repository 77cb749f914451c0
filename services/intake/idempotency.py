"""Idempotency-Key for POSTs: the first answer is stored with the command's effects, atomically; a retry with
the same key and body gets that answer again, a different body under the same key is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
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


_STORED = ("caller_org", "key", "route", "request_hash", "status_code", "body", "created_at")


def store(first_parameter: int = 1, source: str = "") -> str:
    """SQL that stores an answer, its parameters from `$first_parameter` on those `KeyedRequest.answer` gives;
    `source` follows the select list. A command's own statement stores the answer along with its other writes,
    and only when they are written (e.g. `source="FROM treated"`, a CTE that is empty when they are not)."""
    casts = {"body": "::jsonb"}
    values = ", ".join(f"${first_parameter + i}{casts.get(c, '')}" for i, c in enumerate(_STORED))
    return f"INSERT INTO idempotency_keys ({', '.join(_STORED)}) SELECT {values} {source}".rstrip()


def taken(error: asyncpg.UniqueViolationError) -> bool:
    """Whether `error`, raised by a statement that stores an answer, means that another request stored one under
    the same key first: looking the key up again finds that answer (or that the key was used for another
    request)."""
    return error.table_name == "idempotency_keys"


@dataclass(frozen=True)
class KeyedRequest:
    """A request sent with an Idempotency-Key, as it is stored: who sent it, the key, the route, the body's hash."""

    caller_org: str
    key: str
    route: str
    request_hash: str

    def replay(self, seen: Mapping[str, Any] | None) -> tuple[int, Any] | None:
        """The answer stored for this request (`seen`: the row `lookup` found, or None), or None when the key is
        new. Refuses a key that was used for another request."""
        if seen is None:
            return None
        if seen["request_hash"] != self.request_hash or seen["route"] != self.route:
            raise DomainRejected("was used before for a different request", "Idempotency-Key")
        return seen["status_code"], json.loads(seen["body"])

    def answer(self, status: int, body: Any, now: datetime) -> list[Any]:
        """The parameters of `store` for this request's answer."""
        return [
            self.caller_org,
            self.key,
            self.route,
            self.request_hash,
            status,
            json.dumps(jsonable_encoder(body)),
            now,
        ]


def keyed(caller: Caller, key: str | None, route: str, body: Any) -> KeyedRequest | None:
    """The request under its Idempotency-Key, None without one; refuses a malformed key."""
    if key is None:
        return None
    if not 1 <= len(key) <= 200:
        raise DomainRejected("must be 1 to 200 characters", "Idempotency-Key")
    return KeyedRequest(caller.org, key, route, request_hash(route, body))


_LOOKUP = lookup("$1", "$2")
_STORE = store()


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
    request = keyed(caller, key, route, body)
    if request is None:
        return await produce()
    if (replayed := request.replay(await conn.fetchrow(_LOOKUP, caller.org, key))) is not None:
        return replayed
    status, answer = await produce()
    await conn.execute(_STORE, *request.answer(status, answer, now))
    return status, answer
