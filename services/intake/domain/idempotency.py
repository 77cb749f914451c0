"""Idempotency-Key for POSTs, the rules: a request is kept under its caller, key, route and the hash of its body; a
retry with the same key and body gets the first answer again, a different request under the same key is refused.
Pure; the answers are stored by `store.idempotency`, with the command's effects, atomically."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.encoders import jsonable_encoder

from shared.auth import Caller
from shared.http import DomainRejected


def request_hash(route: str, body: Any) -> str:
    canonical = json.dumps(jsonable_encoder(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{route}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class KeyedRequest:
    """A request sent with an Idempotency-Key, as it is stored: who sent it, the key, the route, the body's hash."""

    caller_org: str
    key: str
    route: str
    request_hash: str

    def replay(self, seen: Mapping[str, Any] | None) -> tuple[int, Any] | None:
        """The answer stored for this request (`seen`: the row `store.idempotency.lookup` found, or None), or None
        when the key is new. Refuses a key that was used for another request."""
        if seen is None:
            return None
        if seen["request_hash"] != self.request_hash or seen["route"] != self.route:
            raise DomainRejected("was used before for a different request", "Idempotency-Key")
        return seen["status_code"], json.loads(seen["body"])

    def answer(self, status: int, body: Any, now: datetime) -> list[Any]:
        """The parameters of `store.idempotency.store` for this request's answer."""
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
