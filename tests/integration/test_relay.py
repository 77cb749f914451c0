"""The relay on real PostgreSQL and a real broker: ordered, keyed, nothing lost, duplicates absorbed."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.errors import KafkaError
from structlog.testing import capture_logs

from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import BatchHandler, ConsumedEvent, IdempotentConsumer, Outcome
from shared.events import REGISTRY
from shared.events.intake import ReferralReceived, sample_referral
from shared.kafka import describe_topic
from shared.store.event_store import EventStore
from shared.store.relay import STANDBY_SECONDS, Relay, RelayConfig
from shared.store.unit_of_work import UnitOfWork
from shared.supervisor import LoopHandle, Supervisor
from tests.conftest import eventually, unique
from tests.integration.kafka_support import read_topic

pytestmark = pytest.mark.integration

STORE = EventStore("intake", REGISTRY)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def referral(n: int) -> ReferralReceived:
    return sample_referral(f"{n:08d}")


async def write(pool: asyncpg.Pool, streams: int, per_stream: int, start: int = 0) -> list[uuid.UUID]:
    ids = []
    async with pool.acquire() as conn:
        for s in range(streams):
            version = await STORE.stream_version(conn, f"episode-{s}")
            for v in range(per_stream):
                [e] = await STORE.append(
                    conn, f"episode-{s}", version + v, [referral(start + v)], time=NOW, correlation_id=uuid.uuid4()
                )
                ids.append(e.event_id)
    return ids


async def check_after_restart(relay: Relay) -> bool:
    """check_broker as the relay's loop runs it: a broker that is still reconnecting is asked again."""
    for _ in range(50):
        try:
            return await relay.check_broker()
        except KafkaError:
            await asyncio.sleep(0.2)
    raise AssertionError("the broker did not answer after its restart")


async def drain(relay: Relay) -> int:
    total = 0
    while published := await relay.publish_once():
        total += published
    return total


async def on_topic(bootstrap: str, topic: str, ids: set[uuid.UUID]) -> bool:
    """Whether `topic` holds exactly the events `ids`."""

    def read() -> set[uuid.UUID]:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            if describe_topic(admin, topic) is None:
                return set()
        finally:
            admin.close()
        return {uuid.UUID(json.loads(r.value)["id"]) for r in read_topic(bootstrap, topic, len(ids), timeout=2)}

    return await asyncio.to_thread(read) == ids


def relay_for(pool: asyncpg.Pool, bootstrap: str, topic: str, groups: list[str] | None = None) -> Relay:
    config = RelayConfig(topic=topic, consumer_groups=groups or [], partitions=3, batch_size=7)
    return Relay(pool, STORE, bootstrap, config)


async def counting_consumer(pool: asyncpg.Pool) -> IdempotentConsumer:
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE effects (event_id UUID NOT NULL, subject TEXT NOT NULL)")

    async def count(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
        for event in events:
            await uow.conn.execute("INSERT INTO effects VALUES ($1, $2)", event.envelope.id, event.envelope.subject)

    counting = BatchHandler(types=(ReferralReceived,), handle=count)
    return IdempotentConsumer("counter", pool, STORE, REGISTRY, [counting], ManualClock(NOW))


async def test_every_event_is_published_keyed_by_episode_in_stream_order(store_pool, infrastructure):
    topic = unique("relay")
    ids = await write(store_pool, streams=4, per_stream=6)
    relay = relay_for(store_pool, infrastructure.bootstrap, topic)
    await relay.start()
    try:
        assert await drain(relay) == 24
        assert (await relay.checkpoint()).position == 24  # a fresh schema: positions 1..24
    finally:
        await relay.close()
    records = read_topic(infrastructure.bootstrap, topic, 24)
    assert sorted(uuid.UUID(json.loads(r.value)["id"]) for r in records) == sorted(ids)
    by_key: dict[bytes, list[tuple[int, int, int]]] = {}
    for r in records:
        body = json.loads(r.value)
        assert r.key == body["subject"].encode()
        by_key.setdefault(r.key, []).append((r.partition, r.offset, body["streamversion"]))
    for key, entries in by_key.items():
        assert len({p for p, _, _ in entries}) == 1, f"{key} spread over partitions"
        assert [v for _, _, v in sorted(entries)] == [1, 2, 3, 4, 5, 6]


async def test_a_crash_between_publish_and_checkpoint_gives_a_duplicate_the_consumer_ignores(
    store_pool, infrastructure
):
    topic = unique("relay")
    ids = await write(store_pool, streams=2, per_stream=5)
    crashing = relay_for(store_pool, infrastructure.bootstrap, topic)
    await crashing.start()

    async def crash(*_args) -> None:
        raise SystemExit("killed after the broker acknowledged, before the checkpoint")

    crashing._record = crash  # the process dies exactly between publish and checkpoint
    with pytest.raises(SystemExit):
        await crashing.publish_once()
    await crashing.close()

    restarted = relay_for(store_pool, infrastructure.bootstrap, topic)
    await restarted.start()
    try:
        await drain(restarted)
    finally:
        await restarted.close()

    records = read_topic(infrastructure.bootstrap, topic, 17)
    published = [uuid.UUID(json.loads(r.value)["id"]) for r in records]
    assert set(published) == set(ids)
    assert len(published) > len(ids), "the first batch went out twice"

    consumer = await counting_consumer(store_pool)
    outcomes = [
        await consumer.process(Record(r.topic, r.partition, r.offset, r.key, r.value))
        for r in sorted(records, key=lambda r: (r.partition, r.offset))
    ]
    assert outcomes.count(Outcome.HANDLED) == len(ids)
    assert outcomes.count(Outcome.DUPLICATE) == len(published) - len(ids)
    async with store_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM effects") == len(ids)
        assert await conn.fetchval("SELECT count(DISTINCT event_id) FROM effects") == len(ids)


def consume_and_commit(bootstrap: str, topic: str, group: str, count: int) -> list:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=5000,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    records: list = []
    try:
        import time

        deadline = time.monotonic() + 30
        while len(records) < count and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        consumer.commit()
    finally:
        consumer.close()
    return records


async def test_a_broker_that_comes_back_empty_gets_back_what_consumers_had_not_confirmed(
    store_pool, restartable_broker
):
    topic, group = unique("relay"), unique("group")
    bootstrap = restartable_broker.bootstrap
    confirmed_ids = await write(store_pool, streams=3, per_stream=4)
    relay = relay_for(store_pool, bootstrap, topic, [group])
    await relay.start()
    try:
        await drain(relay)
        assert len(consume_and_commit(bootstrap, topic, group, 12)) == 12
        assert await relay.check_broker() is False  # records the group's confirmation
        unconfirmed_ids = await write(store_pool, streams=3, per_stream=3, start=100)
        await drain(relay)

        restartable_broker.restart_empty()

        assert await check_after_restart(relay) is True
        assert await drain(relay) == len(unconfirmed_ids)
    finally:
        await relay.close()
    after_restart = read_topic(bootstrap, topic, len(unconfirmed_ids))
    republished = {uuid.UUID(json.loads(r.value)["id"]) for r in after_restart}
    assert republished == set(unconfirmed_ids)
    assert republished.isdisjoint(confirmed_ids)


async def test_a_broker_that_comes_back_empty_before_any_confirmation_gets_everything_again(
    store_pool, restartable_broker
):
    topic, group = unique("relay"), unique("group")
    ids = await write(store_pool, streams=2, per_stream=5)
    relay = relay_for(store_pool, restartable_broker.bootstrap, topic, [group])
    await relay.start()
    try:
        await drain(relay)
        assert await relay.check_broker() is False
        restartable_broker.restart_empty()
        assert await check_after_restart(relay) is True
        assert await drain(relay) == len(ids)
        assert await relay.check_broker() is False  # the recreated topic is now the known one
    finally:
        await relay.close()
    records = read_topic(restartable_broker.bootstrap, topic, len(ids))
    assert sorted(uuid.UUID(json.loads(r.value)["id"]) for r in records) == sorted(ids)


async def test_a_running_relay_creates_its_lost_topic_with_the_configured_partitions_never_the_brokers_default(
    store_pool, restartable_broker
):
    """The relay's producer creates no topic by asking for it (a metadata request would give it tansu's
    default of 4 partitions, and the consumer groups a changed partition count to follow): after the broker
    came back empty, the relay, run as its service runs it (under the supervisor), creates the topic with the
    configured 3 partitions, and everything goes out again, once."""
    topic = unique("relay")
    ids = await write(store_pool, streams=3, per_stream=3)
    # It looks at the broker only at its start here, so that the send after the broker's restart comes first.
    config = RelayConfig(topic=topic, consumer_groups=[], partitions=3, batch_size=7, reset_check_seconds=3600.0)
    relay = Relay(store_pool, STORE, restartable_broker.bootstrap, config)
    stop = asyncio.Event()
    supervisor = Supervisor(stop, max_backoff_seconds=1.0)
    supervisor.start("relay", lambda handle: relay.run(stop, handle), reset=relay.reset)
    admin = None
    try:
        await eventually(lambda: on_topic(restartable_broker.bootstrap, topic, set(ids)), timeout=30)
        restartable_broker.restart_empty()
        more = await write(store_pool, streams=2, per_stream=2, start=100)
        await eventually(lambda: on_topic(restartable_broker.bootstrap, topic, set(ids) | set(more)), timeout=60)
        admin = KafkaAdminClient(bootstrap_servers=restartable_broker.bootstrap)
        described = describe_topic(admin, topic)
        assert described is not None and described[1] == [0, 1, 2]
    finally:
        stop.set()
        await supervisor.wait_stopped()
        await relay.close()
        if admin is not None:
            admin.close()
    records = read_topic(restartable_broker.bootstrap, topic, len(ids) + len(more))
    assert sorted(uuid.UUID(json.loads(r.value)["id"]) for r in records) == sorted(ids + more)  # each once


async def test_one_relay_per_topic_publishes_and_a_standing_by_one_takes_over_when_it_stops(store_pool, infrastructure):
    """Two workers of one service each run a relay: one holds the topic's lock and publishes, the other
    stands by; when the first stops, the second publishes what comes next. Every event once on the topic."""
    topic = unique("relay")
    ids = await write(store_pool, streams=3, per_stream=4)
    relays = [relay_for(store_pool, infrastructure.bootstrap, topic) for _ in range(2)]
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [
        asyncio.create_task(relay.run(stop, LoopHandle(f"relay-{n}")))
        for n, (relay, stop) in enumerate(zip(relays, stops, strict=True))
    ]

    async def on_topic(count: int) -> list:
        try:
            records = await asyncio.to_thread(read_topic, infrastructure.bootstrap, topic, count)
        except ValueError:  # the topic has no partitions yet: no relay has created it
            return []
        return records if len(records) >= count else []

    try:
        records = await eventually(lambda: on_topic(12), timeout=30)
        await asyncio.sleep(STANDBY_SECONDS * 1.5)  # the other relay looked for the lock again meanwhile
        publishing = [n for n, relay in enumerate(relays) if relay._producer is not None]
        assert len(publishing) == 1, "exactly one relay publishes"
        [leader] = publishing
        stops[leader].set()
        await tasks[leader]
        ids += await write(store_pool, streams=3, per_stream=2, start=4)
        records = await eventually(lambda: on_topic(18), timeout=30)
        assert relays[1 - leader]._producer is not None
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for relay in relays:
            await relay.close()
    published = [uuid.UUID(json.loads(r.value)["id"]) for r in records]
    assert sorted(published) == sorted(ids)  # every event, each once


async def test_a_topic_with_another_number_of_partitions_than_configured_is_reported_once(store_pool, infrastructure):
    """A topic something else created first (a broker auto-creating it on a client's metadata request) keeps
    the broker's partition count: the relay publishes on, and says so once."""
    topic = unique("relay")
    admin = KafkaAdminClient(bootstrap_servers=infrastructure.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 5, 1)])
    finally:
        admin.close()
    await write(store_pool, streams=2, per_stream=2)
    relay = relay_for(store_pool, infrastructure.bootstrap, topic)  # configured for 3 partitions
    await relay.start()
    try:
        with capture_logs() as logs:
            await drain(relay)
            await relay.check_broker()
            await relay.check_broker()
    finally:
        await relay.close()
    warnings = [entry for entry in logs if entry["event"] == "relay.partition_count_differs"]
    assert [(w["topic"], w["partitions"], w["configured"]) for w in warnings] == [(topic, 5, 3)]
