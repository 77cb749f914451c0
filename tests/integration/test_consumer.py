"""The idempotent consumer inside a real faust worker on the real broker and Postgres."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from kafka import KafkaProducer

from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.faust_worker import attach_consumer, create_faust_app
from shared.consumer.idempotent import ConsumedEvent, IdempotentConsumer, Outcome
from shared.events import REGISTRY, new_envelope
from shared.events.intake import ReferralReceived, sample_referral
from shared.settings import ServiceSettings
from shared.store.event_store import EventStore
from shared.store.unit_of_work import UnitOfWork
from tests.conftest import eventually, unique
from tests.integration.kafka_support import read_topic

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STORE = EventStore("test", REGISTRY)


def referral_record(agb: str = "04123456", **data_overrides) -> tuple[bytes, bytes, uuid.UUID]:
    envelope = new_envelope(
        sample_referral(agb),
        service="intake",
        subject=str(uuid.uuid4()),
        stream_version=1,
        time=NOW,
        correlation_id=uuid.uuid4(),
    )
    body = json.loads(envelope.to_json())
    body["data"].update(data_overrides)
    return envelope.subject.encode(), json.dumps(body).encode(), envelope.id


async def effects_table(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE effects (event_id UUID NOT NULL, practice TEXT NOT NULL)")


async def record_effect(event: ConsumedEvent, uow: UnitOfWork) -> None:
    payload = event.payload
    assert isinstance(payload, ReferralReceived)
    if payload.practice_agb == "09999999":
        raise RuntimeError("this practice makes the handler fail every time")
    await uow.conn.execute("INSERT INTO effects VALUES ($1, $2)", event.envelope.id, payload.practice_agb)


def consumer_for(pool: asyncpg.Pool, name: str) -> IdempotentConsumer:
    return IdempotentConsumer(
        name,
        pool,
        STORE,
        REGISTRY,
        {ReferralReceived: record_effect},
        ManualClock(NOW),
        max_attempts=3,
        retry_backoff_seconds=0.01,
    )


async def test_a_redelivered_event_changes_nothing(store_pool):
    await effects_table(store_pool)
    consumer = consumer_for(store_pool, "dedupe")
    key, value, _ = referral_record()
    record = Record("intake.events", 0, 7, key, value)
    assert await consumer.process(record) is Outcome.HANDLED
    assert await consumer.process(record) is Outcome.DUPLICATE
    assert await consumer.process(Record("intake.events", 3, 99, key, value)) is Outcome.DUPLICATE
    async with store_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM effects") == 1
        assert await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'dedupe'") == 1


async def test_a_failing_handler_leaves_no_half_written_effects_and_is_dead_lettered(store_pool):
    await effects_table(store_pool)
    consumer = consumer_for(store_pool, "failing")
    key, value, event_id = referral_record(agb="09999999")
    assert await consumer.process(Record("intake.events", 0, 1, key, value)) is Outcome.DEAD_LETTERED
    async with store_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM effects") == 0
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 0
        letter = await conn.fetchrow("SELECT * FROM dead_letters")
    assert letter["reason"] == "handler_failed" and letter["attempts"] == 3
    assert letter["event_id"] == event_id and "makes the handler fail" in letter["error"]
    # seen again (redelivery): still one dead letter
    assert await consumer.process(Record("intake.events", 0, 1, key, value)) is Outcome.DEAD_LETTERED
    async with store_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 1


async def test_a_malformed_event_is_dead_lettered_while_the_faust_worker_keeps_consuming(
    store_pool, infrastructure, monkeypatch
):
    await effects_table(store_pool)
    prefix = unique("c") + "."
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", prefix)
    settings = ServiceSettings(service_name="consumer", kafka_bootstrap_servers=infrastructure.bootstrap)
    topic, dead_letters = settings.topic("intake.events"), settings.topic("consumer.dead-letters")

    good = [referral_record(agb=f"0400000{i}") for i in range(3)]
    wrong_type_data = referral_record(practice_agb="not an AGB code")
    producer = KafkaProducer(bootstrap_servers=infrastructure.bootstrap, acks="all")
    for key, value in [
        good[0][:2],
        (b"k", b"\x00\x01 not json at all"),
        wrong_type_data[:2],
        (b"k", b'{"id": "nope"}'),
        good[1][:2],
        referral_record(agb="09999999")[:2],
        good[2][:2],
    ]:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()

    app = create_faust_app(settings)
    consumer = consumer_for(store_pool, "consumer")
    consumer.retry_backoff_seconds = 0.01
    attach_consumer(app, consumer, [topic], dead_letters)
    await app.start()
    try:

        async def all_seen():
            async with store_pool.acquire() as conn:
                handled = await conn.fetchval("SELECT count(*) FROM effects")
                dead = await conn.fetchval("SELECT count(*) FROM dead_letters")
            return handled == 3 and dead == 4

        await eventually(all_seen, timeout=60)
    finally:
        await app.stop()

    async with store_pool.acquire() as conn:
        handled = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM effects")}
        reasons = sorted(r["reason"] for r in await conn.fetch("SELECT reason FROM dead_letters"))
    assert handled == {event_id for _, _, event_id in good}
    assert reasons == ["handler_failed", "invalid", "unparseable", "unparseable"]
    on_topic = read_topic(infrastructure.bootstrap, dead_letters, 4)
    assert len(on_topic) == 4
    headers = [dict(r.headers) for r in on_topic]
    assert sorted(h["dlq.reason"].decode() for h in headers) == reasons
    assert all(h["dlq.original.topic"].decode() == topic for h in headers)
    assert b"\x00\x01 not json at all" in {r.value for r in on_topic}
