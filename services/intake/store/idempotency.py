"""The stored answers to requests sent with an Idempotency-Key (table `idempotency_keys`): looked up and stored
alone, or as parts of a command's own statement (`store.episodes`), so the answer is kept with the command's
effects, atomically. What is stored and when a key is refused: `domain.idempotency`."""

from __future__ import annotations

from typing import Any

import asyncpg


def lookup(org: str, key: str) -> str:
    """SQL for the answer stored under a key, `org` and `key` the placeholders for the caller's organisation and
    the key: alone (`find_answer`), or in a command's own statement that looks the key up along with other
    things."""
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


_LOOKUP = lookup("$1", "$2")
_STORE = store()


async def find_answer(conn: asyncpg.Connection, caller_org: str, key: str) -> asyncpg.Record | None:
    """The answer stored under the caller's key, or None."""
    return await conn.fetchrow(_LOOKUP, caller_org, key)


async def store_answer(conn: asyncpg.Connection, answer: list[Any]) -> None:
    """Store an answer (`KeyedRequest.answer`); inside the command's transaction."""
    await conn.execute(_STORE, *answer)
