"""Dead letters: records a consumer could not handle, kept in Postgres and sent to a dead-letter topic."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from enum import StrEnum

import asyncpg


class DeadLetterReason(StrEnum):
    UNPARSEABLE = "unparseable"  # not a CloudEvent in our envelope
    INVALID = "invalid"  # a known type whose data does not validate, or a version we cannot read
    HANDLER_FAILED = "handler_failed"  # the handler failed on every attempt


@dataclass(frozen=True)
class Record:
    """A Kafka record as the consumer received it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    consumer: str
    record: Record
    reason: DeadLetterReason
    error: str
    attempts: int
    event_id: uuid.UUID | None = None
    event_type: str | None = None
    subject: str | None = None  # the episode, when the envelope could be read

    @property
    def fingerprint(self) -> str:
        """The same bad record seen twice is one dead letter: by event id, else by the bytes."""
        if self.event_id is not None:
            return f"event:{self.event_id}"
        return "sha256:" + hashlib.sha256(self.record.value or b"").hexdigest()

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("dlq.consumer", self.consumer.encode()),
            ("dlq.reason", self.reason.value.encode()),
            ("dlq.error", self.error[:2000].encode()),
            ("dlq.attempts", str(self.attempts).encode()),
            ("dlq.original.topic", self.record.topic.encode()),
            ("dlq.original.partition", str(self.record.partition).encode()),
            ("dlq.original.offset", str(self.record.offset).encode()),
        ]


async def record_dead_letter(conn: asyncpg.Connection, letter: DeadLetter) -> bool:
    """Store the dead letter; False when the same record was dead-lettered before (an open letter then keeps
    the latest error and counts the attempts; a settled one stays as it was settled)."""
    inserted: bool | None = await conn.fetchval(
        "INSERT INTO dead_letters (consumer, fingerprint, event_id, event_type, topic, partition,"
        " record_offset, record_key, record_value, reason, error, attempts, subject)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        " ON CONFLICT (consumer, fingerprint) DO UPDATE SET error = excluded.error,"
        " attempts = dead_letters.attempts + excluded.attempts WHERE dead_letters.state = 'open'"
        " RETURNING xmax = 0",
        letter.consumer,
        letter.fingerprint,
        letter.event_id,
        letter.event_type,
        letter.record.topic,
        letter.record.partition,
        letter.record.offset,
        letter.record.key,
        letter.record.value or b"",
        letter.reason.value,
        letter.error,
        letter.attempts,
        letter.subject,
    )
    return bool(inserted)
