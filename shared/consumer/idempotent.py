"""The idempotent consumer: parse, dedupe through the inbox, handle in one transaction, or dead-letter.

A service hands it its `BatchHandler`s, the one handler API: each gets the events of its types that arrived
together, in arrival order and in the batch's transaction (or, when a batch falls back, one event at a time)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import asyncpg
from pydantic import ValidationError

from shared import tracing
from shared.clock import Clock
from shared.consumer import parking
from shared.consumer.dead_letters import DeadLetter, DeadLetterReason, Record, record_dead_letter
from shared.consumer.inbox import claim_all
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
    PARKED = "parked"  # its episode waits for a stuck event (shared.consumer.parking)


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

    async def process(self, record: Record, releasing: str | None = None) -> Outcome:
        return (await self.process_batch([record], releasing))[0]

    async def process_batch(self, records: Sequence[Record], releasing: str | None = None) -> list[Outcome]:
        """Handle records in order. The well-formed ones are handled together in one transaction (one inbox
        statement, one commit); should that fail in any way, it is rolled back and each event is handled on
        its own, with retries and dead-lettering, so one bad event never holds back or takes down the others.
        An event whose episode waits for a stuck event is parked behind it (`shared.consumer.parking`);
        `releasing` names the episode whose stuck and parked events are being handled now."""
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
                handled = await self._handle_together([(records[i], e) for i, e in batch], releasing)
                for (i, _), outcome in zip(batch, handled, strict=True):
                    outcomes[i] = outcome
                batch = []
            except Exception as error:  # noqa: BLE001 — nothing was committed; each event gets its own go
                BATCH_FALLBACKS.labels(self.name).inc()
                log.info("consumer.batch_fell_back", consumer=self.name, size=len(batch), error=repr(error))
        for i, event in batch:
            outcomes[i] = await self._handle_alone(records[i], event, releasing)
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

    async def _handle_together(
        self, events: list[tuple[Record, ConsumedEvent]], releasing: str | None
    ) -> list[Outcome]:
        started = time.perf_counter()
        async with self.pool.acquire() as conn, conn.transaction():
            waiting = await self._claim(conn, events, releasing)
            fresh = waiting.fresh
            outcomes, handled = [], []
            for _, event in events:
                if event.envelope.id in waiting.parked:
                    outcomes.append(Outcome.PARKED)
                elif event.envelope.id not in fresh:
                    outcomes.append(Outcome.DUPLICATE)
                else:
                    fresh.discard(event.envelope.id)  # the same event twice in one batch is handled once
                    outcomes.append(Outcome.HANDLED)
                    handled.append(event)
            await self._run_handlers(conn, handled)
        HANDLER_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        BATCH_SIZE.labels(self.name).observe(len(events))
        return outcomes

    async def _claim(
        self, conn: asyncpg.Connection, events: list[tuple[Record, ConsumedEvent]], releasing: str | None
    ) -> _Claimed:
        """Claim the events in the inbox, except those that wait for a stuck event of their episode: those are
        parked, in order. A waiting event is looked at again under its episode's lock (a release may just have
        freed the episode: then it is claimed after all, and follows the released ones)."""
        pairs = [(e.envelope.id, e.envelope.subject) for _, e in events]
        fresh, waiting = await parking.claim_unless_stuck(conn, self.name, pairs, releasing)
        if not waiting:
            return _Claimed(fresh, set())
        still = await parking.still_stuck(conn, self.name, [p for p in pairs if p[0] in waiting])
        freed = [event_id for event_id in waiting if event_id not in still]
        if freed:
            fresh |= await claim_all(conn, self.name, freed)
        parked = [(r, e) for r, e in events if e.envelope.id in still]
        await parking.park(
            conn, self.name, [(r, e.envelope.id, e.envelope.type, e.envelope.subject) for r, e in parked]
        )
        if parked:
            log.warning("consumer.parked", consumer=self.name, episodes=sorted({e.envelope.subject for _, e in parked}))
        return _Claimed(fresh, still)

    async def _run_handlers(self, conn: asyncpg.Connection, events: list[ConsumedEvent]) -> None:
        with tracing.consuming(self.name, [e.envelope for e in events]):
            for types, handle in self.handlers:
                wanted = [e for e in events if e.envelope.type in types]
                if wanted:
                    await handle(wanted, UnitOfWork(conn, self.store, self.clock))

    async def _handle_alone(self, record: Record, event: ConsumedEvent, releasing: str | None) -> Outcome:
        envelope = event.envelope
        with correlation(str(envelope.correlationid), event_id=str(envelope.id), subject=envelope.subject):
            failures = 0
            backoff = self.retry_backoff_seconds
            while True:
                started = time.perf_counter()
                try:
                    async with self.pool.acquire() as conn, conn.transaction():
                        claimed = await self._claim(conn, [(record, event)], releasing)
                        if claimed.parked:
                            return Outcome.PARKED
                        if envelope.id not in claimed.fresh:
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


@dataclass(frozen=True)
class _Claimed:
    fresh: set[uuid.UUID]  # claimed in the inbox for the first time
    parked: set[uuid.UUID]  # events parked behind a stuck event of their episode


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors())
    return str(error)
