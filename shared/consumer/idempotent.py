"""The idempotent consumer: parse, dedupe through the inbox, handle in one transaction, or dead-letter.

A service hands it its `BatchHandler`s, the one handler API: each gets the events of its types that arrived
together, in arrival order and in the batch's transaction (or, when a batch falls back, one event at a time)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import asyncpg
from pydantic import ValidationError

from shared.clock import Clock
from shared.consumer.dead_letters import DeadLetter, DeadLetterReason, Record, record_dead_letter
from shared.consumer.inbox import claim, claim_all
from shared.db import DATABASE_UNAVAILABLE
from shared.events.envelope import Envelope
from shared.events.payload import EventPayload
from shared.events.registry import EventRegistry, InvalidEventData, UnknownEventType
from shared.logging import correlation, get_logger
from shared.metrics import BATCH_FALLBACKS, BATCH_SIZE, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, HANDLER_SECONDS
from shared.store.event_store import ConcurrencyConflict, EventStore
from shared.store.unit_of_work import UnitOfWork
from shared.supervisor import LoopHandle

log = get_logger(__name__)


@dataclass(frozen=True)
class ConsumedEvent:
    envelope: Envelope
    payload: EventPayload


@dataclass(frozen=True)
class BatchHandler:
    """Handles, in one go, the events of its types that arrived together — in arrival order, in the batch's
    transaction — so a read model loads and writes each episode once per batch instead of once per event.
    A batch that fails is retried one event at a time: `handle` then gets a single event."""

    types: tuple[type[EventPayload], ...]
    handle: Callable[[Sequence[ConsumedEvent], UnitOfWork], Awaitable[None]]


DeadLetterPublisher = Callable[[DeadLetter], Awaitable[None]]


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a well-formed event this consumer has no handler for
    DEAD_LETTERED = "dead_lettered"


class IdempotentConsumer:
    def __init__(
        self,
        name: str,
        pool: asyncpg.Pool,
        store: EventStore,
        registry: EventRegistry,
        handlers: Sequence[BatchHandler],
        clock: Clock,
        *,
        publish_dead_letter: DeadLetterPublisher | None = None,
        max_attempts: int = 3,
        retry_backoff_seconds: float = 0.2,
        handle: LoopHandle | None = None,
    ) -> None:
        self.name = name
        # What health reads of this consumer (the service puts it under its supervisor).
        self.handle = handle or LoopHandle(f"consumer:{name}")
        self.pool = pool
        self.store = store
        self.registry = registry
        self.handlers = [(frozenset(t.event_type for t in h.types), h.handle) for h in handlers]
        self.handled_types: set[str] = set().union(*(types for types, _ in self.handlers))
        self.clock = clock
        self.publish_dead_letter = publish_dead_letter
        self.max_attempts = max_attempts
        self.retry_backoff_seconds = retry_backoff_seconds

    async def process(self, record: Record) -> Outcome:
        return (await self.process_batch([record]))[0]

    async def process_batch(self, records: Sequence[Record]) -> list[Outcome]:
        """Handle records in order. The well-formed ones are handled together in one transaction (one inbox
        statement, one commit); should that fail in any way, it is rolled back and each event is handled on
        its own, with retries and dead-lettering, so one bad event never holds back or takes down the others."""
        outcomes: dict[int, Outcome] = {}  # by the record's place in `records`
        batch: list[tuple[int, ConsumedEvent]] = []
        for i, record in enumerate(records):
            parsed = await self._parse(record)
            if isinstance(parsed, Outcome):
                outcomes[i] = parsed
            else:
                batch.append((i, parsed))
        if len(batch) > 1:
            try:
                handled = await self._handle_together([e for _, e in batch])
                for (i, _), outcome in zip(batch, handled, strict=True):
                    outcomes[i] = outcome
                batch = []
            except Exception as error:  # noqa: BLE001 — nothing was committed; each event gets its own go
                BATCH_FALLBACKS.labels(self.name).inc()
                log.info("consumer.batch_fell_back", consumer=self.name, size=len(batch), error=repr(error))
        for i, event in batch:
            outcomes[i] = await self._handle_alone(records[i], event)
        in_order = [outcomes[i] for i in range(len(records))]
        for outcome, count in Counter(in_order).items():  # one labels() lookup per outcome, not per event
            EVENTS_CONSUMED.labels(self.name, outcome.value).inc(count)
        return in_order

    async def _parse(self, record: Record) -> ConsumedEvent | Outcome:
        try:
            envelope = Envelope.from_json(record.value or b"")
        except (ValidationError, ValueError) as error:
            return await self._dead_letter(record, DeadLetterReason.UNPARSEABLE, _describe(error), 1)
        if envelope.type not in self.handled_types:
            return Outcome.IGNORED
        try:
            payload = self.registry.decode(envelope)
        except (UnknownEventType, InvalidEventData) as error:
            return await self._dead_letter(record, DeadLetterReason.INVALID, str(error), 1, envelope)
        return ConsumedEvent(envelope, payload)

    async def _handle_together(self, events: list[ConsumedEvent]) -> list[Outcome]:
        started = time.perf_counter()
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await claim_all(conn, self.name, [e.envelope.id for e in events])
            outcomes, handled = [], []
            for event in events:
                if event.envelope.id not in fresh:
                    outcomes.append(Outcome.DUPLICATE)
                    continue
                fresh.discard(event.envelope.id)  # the same event twice in one batch is handled once
                outcomes.append(Outcome.HANDLED)
                handled.append(event)
            await self._run_handlers(conn, handled)
        HANDLER_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        BATCH_SIZE.labels(self.name).observe(len(events))
        return outcomes

    async def _run_handlers(self, conn: asyncpg.Connection, events: list[ConsumedEvent]) -> None:
        for types, handle in self.handlers:
            wanted = [e for e in events if e.envelope.type in types]
            if wanted:
                await handle(wanted, UnitOfWork(conn, self.store, self.clock))

    async def _handle_alone(self, record: Record, event: ConsumedEvent) -> Outcome:
        envelope = event.envelope
        with correlation(str(envelope.correlationid), event_id=str(envelope.id), subject=envelope.subject):
            failures = 0
            backoff = self.retry_backoff_seconds
            while True:
                started = time.perf_counter()
                try:
                    async with self.pool.acquire() as conn, conn.transaction():
                        if not await claim(conn, self.name, envelope.id):
                            return Outcome.DUPLICATE
                        await self._run_handlers(conn, [event])
                    HANDLER_SECONDS.labels(self.name).observe(time.perf_counter() - started)
                    return Outcome.HANDLED
                except DATABASE_UNAVAILABLE as error:
                    self.handle.dependency_unavailable()
                    log.warning("consumer.database_unavailable", consumer=self.name, error=repr(error))
                except (ConcurrencyConflict, asyncpg.DeadlockDetectedError) as error:
                    # Another writer (e.g. the timer scheduler) appended to the same stream, or two transactions
                    # locked the same episodes in turn: the next attempt reloads and decides again; this is no
                    # failure of the handler.
                    log.info("consumer.concurrent_append", consumer=self.name, error=str(error))
                except Exception as error:  # noqa: BLE001 — any handler failure counts toward dead-lettering
                    failures += 1
                    log.warning(
                        "consumer.handler_failed",
                        consumer=self.name,
                        type=envelope.type,
                        attempt=failures,
                        error=repr(error),
                    )
                    if failures >= self.max_attempts:
                        return await self._dead_letter(
                            record,
                            DeadLetterReason.HANDLER_FAILED,
                            repr(error),
                            failures,
                            envelope,
                        )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _dead_letter(
        self,
        record: Record,
        reason: DeadLetterReason,
        error: str,
        attempts: int,
        envelope: Envelope | None = None,
    ) -> Outcome:
        letter = DeadLetter(
            self.name,
            record,
            reason,
            error,
            attempts,
            envelope.id if envelope else None,
            envelope.type if envelope else None,
            envelope.subject if envelope else None,
        )
        async with self.pool.acquire() as conn:
            first_time = await record_dead_letter(conn, letter)
        log.error(
            "consumer.dead_lettered",
            consumer=self.name,
            reason=reason.value,
            error=error[:500],
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            first_time=first_time,
        )
        if first_time:
            EVENTS_DEAD_LETTERED.labels(self.name, reason.value).inc()
            if self.publish_dead_letter is not None:
                await self.publish_dead_letter(letter)
        return Outcome.DEAD_LETTERED


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors())
    return str(error)
