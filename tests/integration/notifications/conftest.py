"""Notifications in-process on real Postgres: its schema, its consumer fed real records, its dispatcher."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from deploy.receiver import ReceiverProcess
from services.notifications.domain.filters import Filter, Party
from services.notifications.domain.messages import ContentMode
from services.notifications.handlers import batch_handler_for
from services.notifications.settings import NotificationsSettings
from services.notifications.store import subscriptions
from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import IdempotentConsumer, Outcome
from shared.events import REGISTRY, Envelope, new_envelope
from shared.events.pathway import EscalatedToReferrer, EscalationReason, EvaluationScheduled
from shared.events.payload import EventPayload
from shared.store.event_store import EventStore
from shared.store.migrate import event_store_migrations, migrations_in
from tests.conftest import schema_pool
from tests.support import LoggedPool

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


REFERRER = "01333333"


@pytest.fixture
async def pool(infrastructure) -> AsyncIterator[asyncpg.Pool]:
    migrations = event_store_migrations() + migrations_in("services.notifications")
    async with schema_pool(infrastructure.database_url, migrations, prefix="n") as created:
        yield created


@pytest.fixture
async def other_pool(infrastructure) -> AsyncIterator[asyncpg.Pool]:
    """A second notifications schema, to feed the same events another way and compare."""
    migrations = event_store_migrations() + migrations_in("services.notifications")
    async with schema_pool(infrastructure.database_url, migrations, prefix="n") as created:
        yield created


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path)
    try:
        yield process
    finally:
        process.stop()


def fast_settings(**overrides) -> NotificationsSettings:
    values = {
        "delivery_timeout_seconds": 1.0,
        "lane_lease_seconds": 3.0,
        "retry_base_seconds": 10.0,
        "retry_cap_seconds": 60.0,
        "retry_max_attempts": 5,
        "breaker_failure_threshold": 100,
        "breaker_probe_seconds": 30.0,
        "dispatch_idle_seconds": 0.02,
        "causal_hold_seconds": 60.0,
    }
    return NotificationsSettings(**{**values, **overrides})


def evaluation(number: int = 1) -> EvaluationScheduled:
    return EvaluationScheduled(
        timer_id=uuid.uuid4(), evaluation_number=number, due_at=datetime(2026, 12, 14, tzinfo=UTC)
    )


def escalation() -> EscalatedToReferrer:
    return EscalatedToReferrer(
        reason=EscalationReason.NO_PROGRESS_AFTER_THREE_WEEKS,
        decision_code="evaluation.no_progress",
        explanation_nl="Geen vooruitgang na drie weken",
        explanation_en="No progress after three weeks",
        guideline_section="II.III Evaluatie",
        referrer_agb=REFERRER,
    )


class Feed:
    """Puts events through notifications' real idempotent consumer, as the faust agent does."""

    def __init__(self, pool: asyncpg.Pool, clock: ManualClock, settings: NotificationsSettings) -> None:
        self.pool = LoggedPool(pool)
        self.consumer = IdempotentConsumer(
            "notifications",
            self.pool,  # type: ignore[arg-type]  # the consumer only acquires connections
            EventStore("notifications", REGISTRY),
            REGISTRY,
            [batch_handler_for(settings)],
            clock,
        )
        self.clock = clock
        self.offset = 0

    def envelope(
        self, payload: EventPayload, episode: str, version: int = 1, cause: Envelope | None = None
    ) -> Envelope:
        service = payload.event_type.split(".")[2]
        return new_envelope(
            payload,
            service=service,
            subject=episode,
            stream_version=version,
            time=self.clock.now(),
            correlation_id=cause.correlationid if cause else uuid.uuid4(),
            causation_id=cause.id if cause else None,
        )

    def record(self, envelope: Envelope) -> Record:
        self.offset += 1
        topic = REGISTRY.model_for(envelope.type).topic
        return Record(topic, 0, self.offset, envelope.subject.encode(), envelope.to_json())

    async def __call__(self, envelope: Envelope) -> None:
        assert await self.consumer.process(self.record(envelope)) is Outcome.HANDLED

    async def batch(self, envelopes: list[Envelope]) -> list[Outcome]:
        """The envelopes as one batch of records, as the faust agent hands over what arrived together."""
        return await self.consumer.process_batch([self.record(e) for e in envelopes])


async def subscribe(
    pool: asyncpg.Pool,
    subscriber: str,
    url: str,
    types: list[str],
    party: Party,
    agb: str,
    mode: ContentMode = ContentMode.STRUCTURED,
) -> subscriptions.Subscription:
    async with pool.acquire() as conn:
        return await subscriptions.create(conn, subscriber, url, types, Filter(party, agb), mode, START)
