"""Pathway decides a batch of intake events exactly as it decides them one at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.pathway.handlers import INTAKE_EVENTS
from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import IdempotentConsumer, Outcome
from shared.events import REGISTRY, new_envelope
from shared.events.intake import AssessmentCompleted, sample_referral
from shared.store.event_store import EventStore
from shared.store.migrate import migrate, migrations_in
from tests.unit.pathway_flow.test_reactions import DEVIATING_COURSE, START, WITHIN, history

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
STORE = EventStore("pathway", REGISTRY)


@pytest.fixture
async def pool(store_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    async with store_pool.acquire() as conn:
        await migrate(conn, await conn.fetchval("SELECT current_schema()"), migrations_in("services.pathway"))
    yield store_pool


def intake_records(episode: str, onset_days: int) -> list[Record]:
    payloads = [
        sample_referral(),
        history(START - timedelta(days=onset_days), course=DEVIATING_COURSE),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
    ]
    records = []
    for version, payload in enumerate(payloads, start=1):
        envelope = new_envelope(
            payload,
            service="intake",
            subject=episode,
            stream_version=version,
            time=NOW + timedelta(minutes=version),
            correlation_id=uuid.uuid4(),
        )
        records.append(Record("intake.events", 0, version, episode.encode(), envelope.to_json()))
    return records


def consumer(pool: asyncpg.Pool) -> IdempotentConsumer:
    return IdempotentConsumer("pathway", pool, STORE, REGISTRY, [INTAKE_EVENTS], ManualClock(NOW))


async def decisions(pool: asyncpg.Pool, episode: str) -> list[tuple]:
    rows = await pool.fetch(
        "SELECT e.stream_version, e.event_type, e.data - 'timer_id' AS data, c.stream_version AS caused_by"
        " FROM events e JOIN intake_events c ON c.event_id = e.causation_id"
        " WHERE e.stream_id = $1 ORDER BY e.stream_version",
        episode,
    )
    return [tuple(r) for r in rows]


async def test_a_batch_of_two_episodes_interleaved_decides_as_one_at_a_time(pool: asyncpg.Pool):
    alone_a, alone_b, batched_a, batched_b = (str(uuid.uuid4()) for _ in range(4))
    one_by_one = consumer(pool)
    for record in [*intake_records(alone_a, 40), *intake_records(alone_b, 200)]:
        assert await one_by_one.process(record) is Outcome.HANDLED

    a, b = intake_records(batched_a, 40), intake_records(batched_b, 200)
    interleaved = [a[0], b[0], a[1], b[1], a[2], b[2]]
    outcomes = await consumer(pool).process_batch([*interleaved, a[1]])  # and one redelivered inside the batch
    assert outcomes == [Outcome.HANDLED] * 6 + [Outcome.DUPLICATE]

    for alone, batched in [(alone_a, batched_a), (alone_b, batched_b)]:
        expected = await decisions(pool, alone)
        assert expected, "the one-at-a-time episode got decisions"
        assert [row[1].rsplit(".", 1)[1] for row in expected][:2] == ["EvaluationScheduled", "BeloopClassified"]
        assert await decisions(pool, batched) == expected
    assert await consumer(pool).process_batch(interleaved) == [Outcome.DUPLICATE] * 6
    assert len(await decisions(pool, batched_a)) == len(await decisions(pool, alone_a))
