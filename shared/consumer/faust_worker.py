"""The faust-streaming side of a consumer: the app with settings that suit tansu, and the agent wiring."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import faust
from faust.exceptions import ConsumerNotStarted

from shared.consumer.dead_letters import DeadLetter, Record
from shared.consumer.faust_transport import Consumer, Transport
from shared.consumer.idempotent import IdempotentConsumer
from shared.consumer.topic_watch import CHECK_SECONDS, TopicWatch
from shared.metrics import CONSUMER_LAG
from shared.settings import ServiceSettings
from shared.supervisor import retry_until_done

# What a consumer gathers (at most) before handling it in one transaction; how long it gathers is the
# `consumer_batch_wait_ms` setting.
BATCH_SIZE = 200


def create_faust_app(settings: ServiceSettings) -> faust.App:
    # faust keeps a data directory even with in-memory tables; never in the working tree.
    datadir = Path(tempfile.gettempdir()) / "ruggengraat-faust" / settings.group(settings.service_name)
    datadir.mkdir(parents=True, exist_ok=True)
    brokers = ";".join(f"kafka://{server.strip()}" for server in settings.kafka_bootstrap_servers.split(","))
    app = faust.App(
        settings.group(settings.service_name),
        broker=brokers,
        store="memory://",
        datadir=str(datadir),  # authoritative state lives in Postgres; faust tables are never the truth
        autodiscover=False,
        web_enabled=False,
        topic_replication_factor=1,
        topic_partitions=settings.kafka_topic_partitions,
        consumer_auto_offset_reset="earliest",
        # tansu answers a JoinGroup only after the rebalance timeout: keep it short so a worker joins in
        # seconds, not half a minute. The session timeout lets a killed worker's partitions move on soon.
        broker_rebalance_timeout=3.0,
        broker_session_timeout=6.0,
        broker_heartbeat_interval=1.0,
        broker_max_poll_interval=60.0,
        broker_commit_every=100,
        broker_commit_interval=0.5,
        producer_acks=-1,
        stream_wait_empty=False,
        # No faust leader: nothing here runs on one worker only (no tables, no leader timers), and the leader's
        # topic (`<group>-__assignor-__leader`) is one more topic the group subscribes to; after the broker came
        # back empty it was missing until a client's metadata request recreated it, and no worker creates
        # topics any more (faust_transport), so the group would wait for it for good.
        topic_disable_leader=True,
    )
    transport = Transport(app.conf.broker_consumer, app)
    transport.fetch_max_wait_ms = settings.consumer_fetch_max_wait_ms  # read by the transport's consumer thread
    app.transport = transport
    return app


def kafka_consumer(app: faust.App) -> Consumer:
    """The app's consumer, made by its transport (`create_faust_app`): faust's, with what `faust_transport`
    adds to it."""
    consumer = app.consumer
    assert isinstance(consumer, Consumer)
    return consumer


def attach_consumer(
    app: faust.App, consumer: IdempotentConsumer, topics: list[str], dead_letter_topic: str, batch_wait_ms: int
) -> faust.types.AgentT[bytes]:
    """Run `consumer` over `topics` as one agent, in batches gathered for `batch_wait_ms`; bad records go to
    `dead_letter_topic`."""
    source = app.topic(*topics, value_serializer="raw", key_serializer="raw")
    sink = app.topic(dead_letter_topic, value_serializer="raw", key_serializer="raw")

    async def publish_dead_letter(letter: DeadLetter) -> None:
        await sink.send(key=letter.record.key, value=letter.record.value or b"", headers=letter.headers())

    consumer.publish_dead_letter = publish_dead_letter

    bootstrap = ",".join(f"{url.host}:{url.port}" for url in app.conf.broker)
    watch = TopicWatch(
        bootstrap,
        topics,
        lambda topic: kafka_consumer(app).start_topic_again(topic),
        consumer_name=consumer.name,
        group=app.conf.id,
        assigned=lambda: assigned_partitions(app, topics),
        handle=consumer.handle,
        fetched_unhandled=lambda: kafka_consumer(app).fetched_unhandled(),
        partitions=app.conf.topic_partitions,
        refresh=lambda: kafka_consumer(app).refresh_metadata(),
    )

    async def forget(topic: str) -> None:
        kafka_consumer(app).forget_topic(topic)  # the new assignment reads from the broker's positions anyway

    kafka_consumer(app).before_assignment = lambda: watch.check(forget)

    async def watch_topics() -> None:
        # The first look comes at once, before the group is joined (seconds on tansu): the ids it sees are
        # those of the topics the consumer will read first.
        try:
            while True:
                await watch.check()
                await asyncio.sleep(CHECK_SECONDS)
        finally:
            watch.close()

    app.task(watch_topics)

    async def agent(stream: faust.StreamT[bytes]) -> None:
        # Batches: what arrived within the wait (at most BATCH_SIZE) is handled in one transaction; faust
        # acknowledges the records only after the batch was handled.
        assert isinstance(stream, faust.Stream)  # what faust gives an agent: its `take_events` batches
        async for events in stream.take_events(BATCH_SIZE, within=batch_wait_ms / 1000):
            messages = [event.message for event in events]
            await process_until_done(
                consumer, [Record(m.topic, m.partition, m.offset, m.key, m.value) for m in messages]
            )
            kafka_consumer(app).handled(messages)
            last = {m.tp: m.offset for m in messages}
            for tp, offset in last.items():
                highwater = app.consumer.highwater(tp)
                if highwater is not None:
                    CONSUMER_LAG.labels(consumer.name, tp.topic, str(tp.partition)).set(max(highwater - offset - 1, 0))

    return app.agent(source, name=f"{consumer.name}.consumer")(agent)


def assigned_partitions(app: faust.App, topics: list[str]) -> set[tuple[str, int]]:
    """(topic, partition) of `topics` assigned to this worker now; none before its consumer started."""
    try:
        assignment = app.consumer.assignment()
    except ConsumerNotStarted:
        return set()
    return {(tp.topic, tp.partition) for tp in assignment if tp.topic in topics}


async def process_until_done(consumer: IdempotentConsumer, records: list[Record]) -> None:
    """Handle a batch, trying again after any failure until it is done: the records are acknowledged only
    after this returns, and an error escaping into faust would crash the agent, which stops consuming with
    nothing but a log line (a database that went away while a record was dead-lettered did that). Handling is
    idempotent (the inbox), so a batch tried again changes only what did not commit the first time."""
    consumer.handle.busy()
    await retry_until_done(consumer.handle, lambda: consumer.process_batch(records))
    consumer.handle.idle()
