"""What an operator does with a consumer's dead letters: find them, read one, re-drive them after a fix, or
discard one with a reason. Every action is kept (who, when, why, what came of it) beside the letter.

A re-drive hands the record, as it was received, to the service's own consumer (`IdempotentConsumer.process`):
the same path as from the broker, so an event handled before is a duplicate and changes nothing, and one that
fails again stays open with its latest error. Once an episode has no open letter left (re-driven or
discarded), the events parked behind it follow in order (`shared.consumer.parking`), under the episode's lock.
The HTTP side is `shared.dead_letter_routes`.
"""

from __future__ import annotations

import base64
import contextlib
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

import asyncpg

from shared.auth import Caller
from shared.consumer import parking
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import IdempotentConsumer, Outcome


class LetterState(StrEnum):
    OPEN = "open"
    REDRIVEN = "redriven"  # handled after a fix (or found handled already)
    DISCARDED = "discarded"  # given up on, with a reason


@dataclass(frozen=True)
class LetterFilter:
    state: LetterState | None = LetterState.OPEN
    event_type: str | None = None
    episode: str | None = None
    reason: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    after_id: int = 0  # paging: letters with a higher id
    limit: int = 100


@dataclass(frozen=True)
class Letter:
    id: int
    consumer: str
    state: LetterState
    reason: str
    error: str
    attempts: int
    event_id: uuid.UUID | None
    event_type: str | None
    episode: str | None
    topic: str
    partition: int
    offset: int
    created_at: datetime
    settled_at: datetime | None
    record_key: bytes | None
    record_value: bytes

    @property
    def record(self) -> Record:
        return Record(self.topic, self.partition, self.offset, self.record_key, self.record_value)

    def value_text(self) -> tuple[Literal["utf-8", "base64"], str]:
        """The record's value as received: ("utf-8", text), or ("base64", …) for bytes that are not text."""
        try:
            return "utf-8", self.record_value.decode()
        except UnicodeDecodeError:
            return "base64", base64.b64encode(self.record_value).decode()


@dataclass(frozen=True)
class Action:
    action: Literal["redrive", "discard"]
    actor_user: str
    actor_org: str
    reason: str | None
    outcome: str
    error: str | None
    at: datetime


_COLUMNS = (
    "id, consumer, state, reason, error, attempts, event_id, event_type, subject AS episode, topic, partition,"
    " record_offset AS offset, created_at, settled_at, record_key, record_value"
)


async def find_letters(conn: asyncpg.Connection, consumer: str, wanted: LetterFilter) -> list[Letter]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE consumer = $1 AND id > $2"
        " AND ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR event_type = $4)"
        " AND ($5::text IS NULL OR subject = $5) AND ($6::text IS NULL OR reason = $6)"
        " AND ($7::timestamptz IS NULL OR created_at < $7) AND ($8::timestamptz IS NULL OR created_at > $8)"
        " ORDER BY id LIMIT $9",
        consumer,
        wanted.after_id,
        wanted.state.value if wanted.state else None,
        wanted.event_type,
        wanted.episode,
        wanted.reason,
        wanted.created_before,
        wanted.created_after,
        wanted.limit,
    )
    return [_letter(r) for r in rows]


@dataclass(frozen=True)
class Waiting:
    """What waits for an operator in one consumer: open dead letters, and the events and episodes parked
    behind them; the age of the oldest open letter (None: none open)."""

    dead_letters_open: int
    oldest_open_seconds: float | None
    parked_events: int
    parked_episodes: int


async def waiting(conn: asyncpg.Connection, consumer: str) -> Waiting:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM dead_letters WHERE consumer = $1 AND state = 'open') AS open,"
        " (SELECT extract(epoch FROM now() - min(created_at)) FROM dead_letters"
        "  WHERE consumer = $1 AND state = 'open') AS oldest,"
        " (SELECT count(*) FROM parked_events WHERE consumer = $1) AS parked,"
        " (SELECT count(DISTINCT subject) FROM parked_events WHERE consumer = $1) AS episodes",
        consumer,
    )
    oldest = row["oldest"]
    return Waiting(row["open"], float(oldest) if oldest is not None else None, row["parked"], row["episodes"])


async def letter_of(conn: asyncpg.Connection, consumer: str, letter_id: int) -> Letter | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE consumer = $1 AND id = $2", consumer, letter_id
    )
    return None if row is None else _letter(row)


async def actions_of(conn: asyncpg.Connection, letter_id: int) -> list[Action]:
    rows = await conn.fetch(
        "SELECT action, actor_user, actor_org, reason, outcome, error, at FROM dead_letter_actions"
        " WHERE dead_letter_id = $1 ORDER BY id",
        letter_id,
    )
    return [Action(**dict(r)) for r in rows]


class Refused(Exception):
    """The action does not apply to the letter as it stands (e.g. discarding one already settled)."""


RedriveOutcome = Literal["handled", "duplicate", "ignored", "failed", "refused"]
_SETTLED_BY: dict[Outcome, RedriveOutcome] = {
    Outcome.HANDLED: "handled",
    Outcome.DUPLICATE: "duplicate",
    Outcome.IGNORED: "ignored",
}


@dataclass(frozen=True)
class Redriven:
    letter_id: int
    outcome: RedriveOutcome
    state: LetterState
    error: str | None = None
    released: int = 0  # parked events of its episode that followed it


async def redrive(
    pool: asyncpg.Pool, consumer: IdempotentConsumer, letter_id: int, caller: Caller, now: datetime
) -> Redriven:
    """Hand the letter's record to the consumer again; settle the letter when it was handled (or found handled
    before) and let what its episode parked follow; keep it open with its latest error when it failed again.
    A discarded letter is refused."""
    async with pool.acquire() as conn:
        letter = await letter_of(conn, consumer.name, letter_id)
    if letter is None:
        raise LookupError(letter_id)
    if letter.state is LetterState.DISCARDED:
        return Redriven(letter_id, "refused", letter.state, "a discarded letter is not re-driven")
    async with _episode_held(pool, consumer.name, letter.episode):
        outcome = await consumer.process(letter.record, releasing=letter.episode)
        async with pool.acquire() as conn, conn.transaction():
            if outcome is Outcome.DEAD_LETTERED:
                error = await conn.fetchval("SELECT error FROM dead_letters WHERE id = $1", letter_id)
                await _act(conn, letter_id, "redrive", caller, None, "failed", error, now)
                return Redriven(letter_id, "failed", LetterState.OPEN, error)
            await conn.execute(
                "UPDATE dead_letters SET state = 'redriven', settled_at = coalesce(settled_at, $2) WHERE id = $1",
                letter_id,
                now,
            )
            await _act(conn, letter_id, "redrive", caller, None, _SETTLED_BY[outcome], None, now)
        released = await _release(pool, consumer, letter.episode)
    return Redriven(letter_id, _SETTLED_BY[outcome], LetterState.REDRIVEN, released=released)


async def discard(
    pool: asyncpg.Pool, consumer: IdempotentConsumer, letter_id: int, caller: Caller, reason: str, now: datetime
) -> tuple[Letter, int]:
    """Give up on an open letter, for the reason given, and let what its episode parked follow; returns the
    letter and how many parked events followed. Refused for a letter already settled."""
    async with pool.acquire() as conn:
        found = await letter_of(conn, consumer.name, letter_id)
    if found is None:
        raise LookupError(letter_id)
    async with _episode_held(pool, consumer.name, found.episode):
        async with pool.acquire() as conn, conn.transaction():
            state = await conn.fetchval("SELECT state FROM dead_letters WHERE id = $1 FOR UPDATE", letter_id)
            if state != LetterState.OPEN:
                raise Refused(f"the letter is {state}; only an open letter is discarded")
            await conn.execute(
                "UPDATE dead_letters SET state = 'discarded', settled_at = $2 WHERE id = $1", letter_id, now
            )
            await _act(conn, letter_id, "discard", caller, reason, "discarded", None, now)
        released = await _release(pool, consumer, found.episode)
        async with pool.acquire() as conn:
            letter = await letter_of(conn, consumer.name, letter_id)
    assert letter is not None
    return letter, released


async def _release(pool: asyncpg.Pool, consumer: IdempotentConsumer, episode: str | None) -> int:
    """Hand the episode's parked events to the consumer in order, once no open letter holds it; stop at one that
    fails (it is the episode's stuck event now, the rest stay parked). Returns how many were handed on."""
    if episode is None:
        return 0
    async with pool.acquire() as conn:
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM dead_letters WHERE consumer = $1 AND subject = $2 AND state = 'open')",
            consumer.name,
            episode,
        ):
            return 0
        waiting = await parking.parked_of(conn, consumer.name, episode)
    released = 0
    for parked in waiting:
        outcome = await consumer.process(parked.record, releasing=episode)
        async with pool.acquire() as conn:
            await parking.unpark(conn, parked.id)
        released += 1
        if outcome is Outcome.DEAD_LETTERED:
            break
    return released


def _episode_held(pool: asyncpg.Pool, consumer: str, episode: str | None) -> AbstractAsyncContextManager[None]:
    return parking.episode_held(pool, consumer, episode) if episode is not None else contextlib.nullcontext()


async def _act(
    conn: asyncpg.Connection,
    letter_id: int,
    action: Literal["redrive", "discard"],
    caller: Caller,
    reason: str | None,
    outcome: str,
    error: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO dead_letter_actions (dead_letter_id, action, actor_user, actor_org, reason, outcome, error, at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        letter_id,
        action,
        caller.user,
        caller.org,
        reason,
        outcome,
        error,
        at,
    )


def _letter(row: asyncpg.Record) -> Letter:
    values = dict(row)
    values["state"] = LetterState(values["state"])
    return Letter(**values)
