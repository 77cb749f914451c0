"""The idempotent consumer inside a real faust worker on the real broker and Postgres."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import faust
import pytest
from faust.types import TP
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.faust_worker import attach_consumer, create_faust_app
from shared.consumer.idempotent import BatchHandler, ConsumedEvent, IdempotentConsumer, Outcome
from shared.consumer.topic_watch import TopicWatch
from shared.events import REGISTRY, new_envelope
from shared.events.intake import ReferralReceived, sample_referral
from shared.kafka import describe_topic
from shared.settings import ServiceSettings
from shared.store.event_store import EventStore
from shared.store.unit_of_work import UnitOfWork
from shared.supervisor import LoopHandle
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


async def record_effects(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    for event in events:
        payload = event.payload
        assert isinstance(payload, ReferralReceived)
        if payload.practice_agb == "09999999":
            raise RuntimeError("this practice makes the handler fail every time")
        await uow.conn.execute("INSERT INTO effects VALUES ($1, $2)", event.envelope.id, payload.practice_agb)


RECORD_EFFECTS = BatchHandler(types=(ReferralReceived,), handle=record_effects)


def consumer_for(pool: asyncpg.Pool, name: str) -> IdempotentConsumer:
    return IdempotentConsumer(
        name,
        pool,
        STORE,
        REGISTRY,
        [RECORD_EFFECTS],
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
    attach_consumer(app, consumer, [topic], dead_letters, batch_wait_ms=50)
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


async def test_a_batch_is_handled_in_one_go_and_a_bad_event_in_it_only_fails_itself(store_pool):
    """Good events of a batch commit together; one whose handler fails sends the batch back to one event at a
    time, so the others are still handled once and only the bad one is dead-lettered; duplicates (inside the
    batch and from before) change nothing; an unparseable record is dead-lettered without holding others."""
    await effects_table(store_pool)
    seen_batches: list[int] = []

    async def count_batch(events, uow: UnitOfWork) -> None:
        seen_batches.append(len(events))
        await uow.conn.executemany(
            "INSERT INTO effects VALUES ($1, 'batch:' || $2)", [(e.envelope.id, e.payload.practice_agb) for e in events]
        )

    consumer = IdempotentConsumer(
        "batched",
        store_pool,
        STORE,
        REGISTRY,
        [RECORD_EFFECTS, BatchHandler(types=(ReferralReceived,), handle=count_batch)],
        ManualClock(NOW),
        max_attempts=2,
        retry_backoff_seconds=0.01,
    )
    good = [referral_record(agb=f"0412345{n}") for n in range(3)]
    earlier = referral_record(agb="04123459")
    assert await consumer.process(Record("intake.events", 0, 0, earlier[0], earlier[1])) is Outcome.HANDLED
    records = [Record("intake.events", 0, n + 1, key, value) for n, (key, value, _) in enumerate(good)]
    records.append(Record("intake.events", 0, 4, good[0][0], good[0][1]))  # the same event again, same batch
    records.append(Record("intake.events", 0, 5, earlier[0], earlier[1]))  # handled before
    records.append(Record("intake.events", 0, 6, b"k", b"not json"))
    outcomes = await consumer.process_batch(records)
    assert outcomes == [Outcome.HANDLED] * 3 + [Outcome.DUPLICATE, Outcome.DUPLICATE, Outcome.DEAD_LETTERED]
    assert seen_batches == [1, 3]  # the earlier one alone, then the three fresh ones together
    async with store_pool.acquire() as conn:
        rows = await conn.fetch("SELECT event_id, practice FROM effects")
    assert sorted(r["practice"] for r in rows) == sorted(
        [f"0412345{n}" for n in (0, 1, 2, 9)] + [f"batch:0412345{n}" for n in (0, 1, 2, 9)]
    )

    bad = referral_record(agb="09999999")
    more = [referral_record(agb=f"0412346{n}") for n in range(2)]
    batch = [Record("intake.events", 1, n, key, value) for n, (key, value, _) in enumerate([more[0], bad, more[1]])]
    outcomes = await consumer.process_batch(batch)
    assert outcomes == [Outcome.HANDLED, Outcome.DEAD_LETTERED, Outcome.HANDLED]
    # the first handler failed the batch before the counting one ran; then one at a time (the bad one fails
    # before reaching the counting handler again)
    assert seen_batches[2:] == [1, 1]
    async with store_pool.acquire() as conn:
        practices = [r["practice"] for r in await conn.fetch("SELECT practice FROM effects")]
        assert practices.count("04123460") == 1 and practices.count("batch:04123461") == 1
        assert "09999999" not in practices and "batch:09999999" not in practices
        assert await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'batched'") == 6


async def test_records_go_on_being_handled_exactly_once_while_a_second_worker_joins_and_the_first_leaves(
    store_pool, infrastructure, monkeypatch
):
    """Two workers of one group on a topic of two partitions: the second joining and the first leaving each
    move a partition, faust stopping the flow meanwhile; every record is handled, and each once, before,
    during and after."""
    await effects_table(store_pool)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", unique("r") + ".")
    settings = ServiceSettings(
        service_name="rebalanced", kafka_bootstrap_servers=infrastructure.bootstrap, kafka_topic_partitions=2
    )
    topic, dead_letters = settings.topic("intake.events"), settings.topic("rebalanced.dead-letters")
    handled_by: dict[str, list[uuid.UUID]] = {"first": [], "second": []}

    def worker(name: str):
        async def record_and_note(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
            await record_effects(events, uow)
            handled_by[name].extend(event.envelope.id for event in events)

        app = create_faust_app(settings)
        consumer = IdempotentConsumer(
            "rebalanced",
            store_pool,
            STORE,
            REGISTRY,
            [BatchHandler(types=(ReferralReceived,), handle=record_and_note)],
            ManualClock(NOW),
        )
        attach_consumer(app, consumer, [topic], dead_letters, batch_wait_ms=20)
        return app

    producer = KafkaProducer(bootstrap_servers=infrastructure.bootstrap, acks="all")
    sent: list[uuid.UUID] = []

    def send(count: int) -> None:
        for _ in range(count):
            key, value, event_id = referral_record()
            producer.send(topic, key=key, value=value)
            sent.append(event_id)
        producer.flush()

    async def all_handled():
        async with store_pool.acquire() as conn:
            return await conn.fetchval("SELECT count(*) FROM effects") == len(sent)

    async def second_has_a_partition():
        send(1)
        await eventually(all_handled, timeout=60)
        return bool(handled_by["second"])

    first, second = worker("first"), worker("second")
    try:
        await first.start()
        send(40)
        await eventually(all_handled, timeout=60)
        await second.start()
        send(40)  # while the group rebalances
        await eventually(all_handled, timeout=60)
        await eventually(second_has_a_partition, timeout=60)
        await first.stop()
        send(40)  # the second worker takes both partitions
        await eventually(all_handled, timeout=60)
    finally:
        producer.close()
        for app in (first, second):
            await app.stop()

    async with store_pool.acquire() as conn:
        effects = [r["event_id"] for r in await conn.fetch("SELECT event_id FROM effects")]
    assert sorted(effects) == sorted(sent)  # every record, each once
    assert handled_by["first"] and handled_by["second"]


async def test_a_worker_that_keeps_running_while_the_broker_comes_back_empty_reads_the_new_topic_from_its_start(
    store_pool, restartable_broker, monkeypatch
):
    """The broker loses everything while a worker runs: the topic comes back (the worker's watch creates it)
    with offsets from 0 again, below where the worker had read. Every record of the new topic is handled,
    none skipped as 'already read'."""
    await effects_table(store_pool)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", unique("e") + ".")
    settings = ServiceSettings(
        service_name="emptied", kafka_bootstrap_servers=restartable_broker.bootstrap, kafka_topic_partitions=1
    )
    topic, dead_letters = settings.topic("intake.events"), settings.topic("emptied.dead-letters")
    app = create_faust_app(settings)
    attach_consumer(app, consumer_for(store_pool, "emptied"), [topic], dead_letters, batch_wait_ms=20)
    sent: list[uuid.UUID] = []

    def send(count: int) -> None:
        sent.extend(send_referrals(restartable_broker.bootstrap, topic, count))

    async def all_handled():
        return await effects_are(store_pool, len(sent))

    try:
        await app.start()
        send(60)
        await eventually(all_handled, timeout=60)
        restartable_broker.restart_empty()

        async def recreated() -> bool:
            return await asyncio.to_thread(topic_partitions, restartable_broker.bootstrap, topic) > 0

        await eventually(recreated, timeout=30)
        send(90)  # offsets from 0 of the new topic: most of them below where the worker had read
        await eventually(all_handled, timeout=60)
    finally:
        await app.stop()
    async with store_pool.acquire() as conn:
        effects = [r["event_id"] for r in await conn.fetch("SELECT event_id FROM effects")]
    assert sorted(effects) == sorted(sent)


@pytest.mark.parametrize("partitions_before", [3, 2], ids=["as-configured", "fewer-than-configured"])
async def test_a_worker_recreates_its_topic_with_the_configured_partitions_when_the_broker_came_back_empty(
    store_pool, restartable_broker, monkeypatch, partitions_before
):
    """aiokafka asks for its topics' metadata with 'create them if missing': after the broker came back
    empty the workers recreated every topic with the broker's default partition count (tansu: 4) before the
    relay could create it with the configured one, and groups of two workers never finished rebalancing
    over the change. No client creates a topic by asking for it now; the worker's topic watch creates a
    missing topic with the configured partitions and the worker reads it. When that count differs from the
    one the worker read before (here: an operator raised it), the worker reads the new partitions too: tansu
    answers a member that rejoins with the assignment it already had, so the worker rejoins as a new member
    (faust_transport.RejoinAsNewMember)."""
    await effects_table(store_pool)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", unique("n") + ".")
    settings = ServiceSettings(
        service_name="nocreate", kafka_bootstrap_servers=restartable_broker.bootstrap, kafka_topic_partitions=3
    )
    topic, dead_letters = settings.topic("intake.events"), settings.topic("nocreate.dead-letters")
    await asyncio.to_thread(create_topic, restartable_broker.bootstrap, topic, partitions_before)
    app = create_faust_app(settings)
    attach_consumer(app, consumer_for(store_pool, "nocreate"), [topic], dead_letters, batch_wait_ms=20)
    admin = KafkaAdminClient(bootstrap_servers=restartable_broker.bootstrap)

    async def reading() -> bool:
        return len(app.consumer.assignment()) == partitions_before

    async def recreated_as_configured() -> bool:
        described = await asyncio.to_thread(describe_topic, admin, topic)
        return described is not None and len(described[1]) == 3

    try:
        await app.start()
        await eventually(reading, timeout=60)
        restartable_broker.restart_empty()
        admin.close()
        admin = KafkaAdminClient(bootstrap_servers=restartable_broker.bootstrap)
        await eventually(recreated_as_configured, timeout=30)
        sent = await asyncio.to_thread(send_referrals, restartable_broker.bootstrap, topic, 30)
        await eventually(lambda: effects_are(store_pool, len(sent)), timeout=60)
        assert {tp.partition for tp in app.consumer.assignment()} == {0, 1, 2}
    finally:
        admin.close()
        await app.stop()


async def test_a_worker_reads_every_partition_of_a_topic_created_again_late_with_more_partitions(
    store_pool, restartable_broker, monkeypatch
):
    """tansu answers a member that rejoins its group with the assignment it already had (its generations stay
    0): a worker that rejoined while its topic was missing, and rejoined again when the topic came back with
    more partitions, was given its old three partitions and never read the other two. The worker rejoins as a
    new member when a partition count changes (faust_transport.RejoinAsNewMember). The watch is kept from
    creating the topic here, so that it stays missing until the test creates it."""

    class WatchThatCreatesNothing(TopicWatch):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **{**kwargs, "partitions": None})

    monkeypatch.setattr("shared.consumer.faust_worker.TopicWatch", WatchThatCreatesNothing)
    await effects_table(store_pool)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", unique("m") + ".")
    settings = ServiceSettings(
        service_name="late", kafka_bootstrap_servers=restartable_broker.bootstrap, kafka_topic_partitions=3
    )
    topic, dead_letters = settings.topic("intake.events"), settings.topic("late.dead-letters")
    await asyncio.to_thread(create_topic, restartable_broker.bootstrap, topic, 3)
    app = create_faust_app(settings)
    attach_consumer(app, consumer_for(store_pool, "late"), [topic], dead_letters, batch_wait_ms=20)

    async def reading() -> bool:
        return len(app.consumer.assignment()) == 3

    try:
        await app.start()
        await eventually(reading, timeout=60)
        restartable_broker.restart_empty()
        await asyncio.sleep(8)  # the worker finds its member gone and rejoins while the topic is missing
        await asyncio.to_thread(create_topic, restartable_broker.bootstrap, topic, 5)
        sent = await asyncio.to_thread(send_referrals, restartable_broker.bootstrap, topic, 40)
        await eventually(lambda: effects_are(store_pool, len(sent)), timeout=60)
        assert {tp.partition for tp in app.consumer.assignment()} == {0, 1, 2, 3, 4}
    finally:
        await app.stop()


async def test_faust_reading_again_from_the_committed_offsets_reads_a_partition_without_a_commit_from_its_start(
    infrastructure, monkeypatch
):
    """faust drops the records it fetched but had not delivered when a rebalance stops the flow, and seeks
    to the committed offsets to read them again. A partition the group never committed (every partition of
    a broker that came back empty) must go back to its start, not stay where the fetcher got to."""
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", unique("s") + ".")
    settings = ServiceSettings(
        service_name="seeking", kafka_bootstrap_servers=infrastructure.bootstrap, kafka_topic_partitions=1
    )
    topic = settings.topic("intake.events")
    app = create_faust_app(settings)
    release = asyncio.Event()
    received: list[int] = []

    async def hold(stream: faust.StreamT) -> None:
        async for event in stream.events():  # never acknowledged, so the group commits nothing
            received.append(event.message.offset)
            await release.wait()

    app.agent(app.topic(topic, value_serializer="raw", key_serializer="raw"), name="seeking.hold")(hold)
    producer = KafkaProducer(bootstrap_servers=infrastructure.bootstrap, acks="all")
    try:
        for n in range(20):
            producer.send(topic, key=b"k", value=str(n).encode(), partition=0)
        producer.flush()
    finally:
        producer.close()
    tp = TP(topic, 0)
    try:
        await app.start()
        thread = app.consumer._thread

        async def fetched_all() -> bool:
            return bool(received) and await thread.position(tp) == 20

        await eventually(fetched_all, timeout=60)
        # As a rebalance does: the flow stops, then the seek. A fetch still under way may yet take the
        # records read again from the start (position 20 for a moment); faust then drops them and seeks
        # once more, so the position settles at 0. Without a seek to the start it stays at 20.
        app.consumer.stop_flow()
        committed = await thread.seek_to_committed()
        assert not committed.get(tp)  # nothing committed

        async def back_at_start() -> bool:
            return await thread.position(tp) == 0

        await eventually(back_at_start, timeout=20)
    finally:
        release.set()
        await app.stop()


def send_referrals(bootstrap: str, topic: str, count: int) -> list[uuid.UUID]:
    """Publish `count` referral records to `topic`; their event ids."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    sent = []
    try:
        for _ in range(count):
            key, value, event_id = referral_record()
            producer.send(topic, key=key, value=value)
            sent.append(event_id)
        producer.flush()
    finally:
        producer.close()
    return sent


async def effects_are(pool: asyncpg.Pool, count: int) -> bool:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM effects") == count


def topic_partitions(bootstrap: str, topic: str) -> int:
    """How many partitions `topic` has (0: missing)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = describe_topic(admin, topic)
        return len(described[1]) if described else 0
    finally:
        admin.close()


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        admin.close()


async def test_the_topic_watch_marks_the_consumer_busy_while_records_wait_past_the_groups_commit(infrastructure):
    """A consumer that stopped fetching makes no batches and raises nothing; the watch sees the records wait
    on the broker, so the consumer's loop counts as having work and, without progress, as stalled."""
    topic, group = unique("waiting"), unique("group")
    producer = KafkaProducer(bootstrap_servers=infrastructure.bootstrap, acks="all")
    try:
        for n in range(3):
            producer.send(topic, key=b"k", value=str(n).encode(), partition=0)
        producer.flush()
    finally:
        producer.close()
    clock = [100.0]
    handle = LoopHandle("consumer:waiting", now=lambda: clock[0])
    handle.started = True

    async def nothing(_topic: str) -> None:
        return None

    watch = TopicWatch(
        infrastructure.bootstrap,
        [topic],
        nothing,
        consumer_name="waiting",
        group=group,
        assigned=lambda: {(topic, 0)},
        handle=handle,
    )
    try:
        await watch.check()
        assert handle.has_work  # three records, nothing committed
        clock[0] += 61
        assert handle.stalled(60)

        committer = KafkaConsumer(bootstrap_servers=infrastructure.bootstrap, group_id=group, enable_auto_commit=False)
        try:
            committer.commit({TopicPartition(topic, 0): OffsetAndMetadata(3, "", -1)})
        finally:
            committer.close()
        handle.idle()  # the consumer's batch ended
        await watch.check()
        assert not handle.has_work  # everything committed: nothing waits
    finally:
        watch.close()
