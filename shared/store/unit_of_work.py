"""The unit of work a handler runs in: one transaction for its effects, inbox row and new events."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared import tracing
from shared.clock import Clock
from shared.events.envelope import Envelope
from shared.events.payload import EventPayload
from shared.metrics import EVENTS_APPENDED
from shared.store.event_store import AppendStatement, EventStore, PendingEvent, StoredEvent


@dataclass
class UnitOfWork:
    """What a handler may touch. The caller owns the transaction; nothing in here commits on its own."""

    conn: asyncpg.Connection
    store: EventStore
    clock: Clock
    cause: Envelope | None = None
    correlation_id: uuid.UUID | None = None

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        payloads: Sequence[EventPayload],
        *,
        guideline_version: str | None = None,
        protocol_version: str | None = None,
        event_ids: Sequence[uuid.UUID] | None = None,
    ) -> list[StoredEvent]:
        """Append events caused by what is being handled; correlation and causation follow the cause."""
        stored = await self.store.append(
            self.conn,
            stream_id,
            expected_version,
            payloads,
            **self._appended_by(),
            guideline_version=guideline_version,
            protocol_version=protocol_version,
            event_ids=event_ids,
        )
        return self._counted(stored)

    def append_statement(
        self, stream_id: str, expected_version: int, payloads: Sequence[EventPayload], *, guard: str | None = None
    ) -> AppendStatement:
        """`append` as SQL to run along with other writes in one statement (see `EventStore.append_statement`);
        once that statement wrote the events, `count` them."""
        return self.store.append_statement(stream_id, expected_version, payloads, **self._appended_by(), guard=guard)

    async def append_many(self, expected_versions: dict[str, int], events: Sequence[PendingEvent]) -> list[StoredEvent]:
        """Append to several streams at once (a batch handler's decisions), each event with its own cause (and,
        while traces are on, the trace context of its cause's handling)."""
        if tracing.enabled():
            events = [dataclasses.replace(e, traceparent=tracing.traceparent_for(e.causation_id)) for e in events]
        return self._counted(await self.store.append_many(self.conn, expected_versions, events, time=self.clock.now()))

    def count(self, appended: Sequence[StoredEvent | EventPayload]) -> None:
        """Count events appended through this unit of work (the appended-events metric)."""
        for event in appended:
            EVENTS_APPENDED.labels(self.store.service, event.event_type).inc()

    def _counted(self, stored: list[StoredEvent]) -> list[StoredEvent]:
        self.count(stored)
        return stored

    def _appended_by(self) -> dict[str, Any]:
        """What this unit of work sets on every event it appends: the time, correlation, causation and (while
        traces are on) the trace context it is appended in."""
        causation_id = self.cause.id if self.cause else None
        return {
            "time": self.clock.now(),
            "correlation_id": self.correlation_id or (self.cause.correlationid if self.cause else uuid.uuid4()),
            "causation_id": causation_id,
            "traceparent": tracing.traceparent_for(causation_id),
        }
