"""The relay: tails a service's event log and publishes it to Kafka, losing nothing.

Why tail the log rather than keep a separate outbox table: an event *is* what must be published, and it
is already written in the command's transaction, so the log is the outbox; a second table would double
every write and could only drift from the log. The relay records how far it got (a checkpoint) after the
broker acknowledged a batch (acks=all, idempotent producer): a crash between the two gives a duplicate
that consumers' inboxes absorb, never a loss.

Our local broker keeps nothing across a restart. The relay therefore also remembers, per partition,
which log positions landed at which Kafka offsets, and regularly asks the consumer groups that depend on
its topic how far they have committed. That gives the *confirmed* point: every event up to it has been
handled by every group. When the topic is missing or a partition's end offset went backwards, the relay
rewinds its checkpoint to the confirmed point and publishes again from there.

One relay per topic publishes. A service may run several workers, each with a relay; they take a
PostgreSQL advisory lock named after the topic, held by a connection of their own for as long as they
publish. The others stand by and look again every few seconds, so when the publishing worker dies (its
connection, and with it the lock, goes) another takes over within that time. Two publishers at once would
lose nothing (the consumers' inboxes absorb the doubles) but would double the broker's traffic and
interleave two copies of the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaTimeoutError

from shared import kafka as kafka_clients
from shared import tracing
from shared.db import DATABASE_UNAVAILABLE
from shared.logging import get_logger
from shared.metrics import BROKER_RESETS, EVENTS_PUBLISHED, EVENTS_REPUBLISHED, RELAY_LAG
from shared.store.event_store import START, EventStore, GlobalPosition, StoredEvent
from shared.supervisor import LoopHandle

log = get_logger(__name__)

IDLE_SLEEP_MAX_SECONDS = 0.16  # the longest an idle relay waits before looking again
PRODUCER_CLOSE_SECONDS = 5.0
STANDBY_SECONDS = 2.0  # how often a relay that does not hold its topic's lock asks for it again


@dataclass(frozen=True)
class Placed:
    """Where one published event landed."""

    event: StoredEvent
    partition: int
    offset: int


@dataclass
class RelayConfig:
    topic: str
    consumer_groups: Sequence[str]
    partitions: int = 6
    batch_size: int = 1000
    idle_sleep_seconds: float = 0.01
    reset_check_seconds: float = 2.0


class Relay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        bootstrap: str,
        config: RelayConfig,
    ) -> None:
        self.pool = pool
        self.store = store
        self.bootstrap = bootstrap
        self.config = config
        self._producer: KafkaProducer | None = None
        self._admin: KafkaAdminClient | None = None
        self._republish_until: GlobalPosition | None = None
        self._published: GlobalPosition | None = None  # the checkpoint, once read; None: read it again
        self._partitions_reported: tuple[str | None, int] | None = None  # (topic id, count) warned about

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        client_id = f"relay-{self.config.topic}"
        if self._admin is None:
            self._admin = await asyncio.to_thread(kafka_clients.admin, self.bootstrap, client_id)
        await asyncio.to_thread(self._ensure_topic)
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO relay_checkpoints (topic) VALUES ($1) ON CONFLICT DO NOTHING", self.config.topic
            )
        self._producer = await asyncio.to_thread(kafka_clients.producer, self.bootstrap, client_id)

    async def close(self) -> None:
        producer, admin = self._producer, self._admin
        self._producer = self._admin = None
        if producer is not None:
            # Bounded: with the broker away, an unbounded close waits for records it can never send.
            await asyncio.to_thread(producer.close, PRODUCER_CLOSE_SECONDS)
        if admin is not None:
            await asyncio.to_thread(admin.close)

    async def run(self, stop: asyncio.Event, handle: LoopHandle) -> None:
        """Publish until `stop` is set, while holding the topic's lock (standing by until then). Runs under the
        service's supervisor: any error ends this call, and the supervisor logs it, calls `reset` and runs it
        again after a backoff."""
        async with self.pool.acquire() as lock:
            if not await self._lead(lock, stop, handle):
                return
            try:
                log.info("relay.leading", topic=self.config.topic)
                await self._publish_while_leading(lock, stop, handle)
            finally:
                # Pooled connections are released without asyncpg's reset (shared.db), so the lock is given
                # up here; a connection that died took it with it.
                if not lock.is_closed():
                    with contextlib.suppress(*DATABASE_UNAVAILABLE):
                        await lock.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", self._lock_name)

    async def _lead(self, lock: asyncpg.Connection, stop: asyncio.Event, handle: LoopHandle) -> bool:
        """Wait for the topic's lock; False when stopped first."""
        while not stop.is_set():
            if await lock.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", self._lock_name):
                return True
            handle.idle()  # standing by: another worker publishes this topic
            await _sleep_or_stop(stop, STANDBY_SECONDS)
        return False

    @property
    def _lock_name(self) -> str:
        return f"relay:{self.config.topic}"

    async def _publish_while_leading(self, lock: asyncpg.Connection, stop: asyncio.Event, handle: LoopHandle) -> None:
        loop = asyncio.get_running_loop()
        next_check = 0.0
        idle = self.config.idle_sleep_seconds
        handle.busy()  # a relay always has a pass to make: one that makes none for long has hung
        while not stop.is_set():
            if self._producer is None:
                await self.start()
            if loop.time() >= next_check:
                await lock.fetchval("SELECT 1")  # the lock's connection is gone: end, so as not to publish unled
                await self.check_broker()
                next_check = loop.time() + self.config.reset_check_seconds
            try:
                published = await self.publish_once()
            except KafkaTimeoutError as error:
                # The producer found no metadata for the topic in time: the broker lost it (it came back empty)
                # and producers never create topics. Look at the broker now: it creates the topic again and
                # rewinds to what the consumers confirmed.
                log.warning("relay.topic_unavailable", topic=self.config.topic, error=str(error))
                next_check = 0.0
                continue
            handle.progressed()
            if published == 0:
                # Idle: look again soon while events come steadily, less often the longer nothing comes.
                await _sleep_or_stop(stop, idle)
                idle = min(idle * 2, IDLE_SLEEP_MAX_SECONDS)
            else:
                idle = self.config.idle_sleep_seconds

    async def reset(self) -> None:
        """After a failure: forget the checkpoint read (it is read again), drop every pooled connection and the
        Kafka clients, so the next run starts on fresh ones."""
        self._published = None
        await self.pool.expire_connections()
        await self.close()

    # -- publishing ------------------------------------------------------------------------------------

    async def checkpoint(self) -> GlobalPosition:
        async with self.pool.acquire() as conn:
            return await self._checkpoint(conn)

    async def publish_once(self) -> int:
        """Publish the next batch after the checkpoint; returns how many events went out.

        Two round trips per batch (read, record): the relay runs on its service's event loop, where every
        await queues behind the requests being served, so each round trip saved shortens the time an
        event waits to be published. The checkpoint is read once and then kept here: this relay is its
        only writer (a rewind sets it too), and it is forgotten on any error, to be read again.
        """
        async with self.pool.acquire() as conn:
            if self._published is None:
                self._published = await self._checkpoint(conn)
            batch = await self.store.read_all(conn, self._published, self.config.batch_size)
        if not batch:
            RELAY_LAG.labels(self.config.topic).set(0)
            return 0
        placed = await asyncio.to_thread(self._produce, batch)
        await self._record(placed)
        self._published = batch[-1].global_position
        EVENTS_PUBLISHED.labels(self.config.topic).inc(len(batch))
        if self._republish_until is not None:
            again = [p for p in placed if p.event.global_position <= self._republish_until]
            EVENTS_REPUBLISHED.labels(self.config.topic).inc(len(again))
            if batch[-1].global_position >= self._republish_until:
                self._republish_until = None
        return len(batch)

    def _produce(self, batch: Sequence[StoredEvent]) -> list[Placed]:
        assert self._producer is not None, "start() the relay first"
        with tracing.publishing(self.config.topic, batch) as landed:
            futures = [
                (
                    event,
                    self._producer.send(
                        self.config.topic,
                        key=event.stream_id.encode(),
                        value=event.cloudevent_json(),
                        headers=[("content-type", b"application/cloudevents+json; charset=UTF-8")],
                    ),
                )
                for event in batch
            ]
            self._producer.flush()
            placed = []
            for event, future in futures:
                meta = future.get(timeout=0)  # raises the send's error, if any: the batch is not checkpointed
                placed.append(Placed(event, meta.partition, meta.offset))
                landed(event.event_id, meta.partition, meta.offset)
        return placed

    async def _record(self, placed: Sequence[Placed]) -> None:
        """Where the batch landed per partition, and the checkpoint after it: one statement, so both or
        neither are written."""
        last = placed[-1].event.global_position
        per_partition: dict[int, list[Placed]] = defaultdict(list)
        for p in placed:
            per_partition[p.partition].append(p)
        batches = [(partition, items[0], items[-1]) for partition, items in per_partition.items()]
        async with self.pool.acquire() as conn:
            await conn.execute(
                "WITH placed AS ("
                " INSERT INTO relay_offsets (topic, partition, first_offset, last_offset, transaction_id, position)"
                " SELECT $1, p, f, l, t::xid8, pos"
                " FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[]) AS b(p, f, l, t, pos)"
                " ON CONFLICT (topic, partition, first_offset) DO UPDATE SET last_offset = excluded.last_offset,"
                " transaction_id = excluded.transaction_id, position = excluded.position)"
                " UPDATE relay_checkpoints SET transaction_id = $7::text::xid8, position = $8, updated_at = now()"
                " WHERE topic = $1",
                self.config.topic,
                [partition for partition, _, _ in batches],
                [first.offset for _, first, _ in batches],
                [last_.offset for _, _, last_ in batches],
                [str(first.event.global_position.transaction_id) for _, first, _ in batches],
                [first.event.global_position.position for _, first, _ in batches],
                str(last.transaction_id),
                last.position,
            )

    async def _checkpoint(self, conn: asyncpg.Connection) -> GlobalPosition:
        row = await conn.fetchrow(
            "SELECT transaction_id::text::bigint AS tx, position FROM relay_checkpoints WHERE topic = $1",
            self.config.topic,
        )
        return GlobalPosition(row["tx"], row["position"]) if row else START

    # -- broker resets ---------------------------------------------------------------------------------

    def _ensure_topic(self) -> None:
        assert self._admin is not None
        kafka_clients.ensure_topics(self._admin, [self.config.topic], self.config.partitions)

    async def check_broker(self) -> bool:
        """Refresh the confirmed point, or rewind to it when the broker lost our records. True on a reset."""
        assert self._admin is not None
        topic = self.config.topic
        described = await asyncio.to_thread(kafka_clients.describe_topic, self._admin, topic)
        async with self.pool.acquire() as conn:
            known_id = await conn.fetchval("SELECT topic_id FROM relay_checkpoints WHERE topic = $1", topic)
            last_batches = {
                r["partition"]: r["first"]
                for r in await conn.fetch(
                    "SELECT partition, max(first_offset) AS first FROM relay_offsets WHERE topic = $1"
                    " GROUP BY partition",
                    topic,
                )
            }
        reason = None
        if described is None:
            reason = "topic_missing"
        elif known_id is not None and described[0] is not None and described[0] != known_id:
            reason = "topic_recreated"
        else:
            ends = await asyncio.to_thread(kafka_clients.end_offsets, self._admin, topic, described[1])
            if ends is None:
                reason = "topic_missing"
            elif any(ends.get(p, 0) <= first for p, first in last_batches.items()):
                reason = "offsets_went_back"
        if reason is not None:
            await self._rewind_to_confirmed(reason)
            return True
        if known_id is None and described is not None and described[0] is not None:
            await self._remember_topic_id(described[0])
        if described is not None:
            self._report_partition_count(described[0], len(described[1]))
        committed = {
            group: await asyncio.to_thread(kafka_clients.committed_offsets, self._admin, group, topic)
            for group in self.config.consumer_groups
        }
        await self._advance_confirmed(committed)
        return False

    def _report_partition_count(self, topic_id: str | None, count: int) -> None:
        """Warn (once per topic incarnation) when the topic has another number of partitions than configured:
        something created it before the relay did (a broker that auto-creates topics on a client's metadata
        request uses its own default). Order per episode still holds (the producer hashes keys over the
        partitions the topic has), but the consumers' scaling is sized for `KAFKA_TOPIC_PARTITIONS`."""
        if count == self.config.partitions or self._partitions_reported == (topic_id, count):
            return
        self._partitions_reported = (topic_id, count)
        log.warning(
            "relay.partition_count_differs",
            topic=self.config.topic,
            partitions=count,
            configured=self.config.partitions,
            hint="create the topic before clients use it, or turn off the broker's topic auto-creation",
        )

    async def _remember_topic_id(self, topic_id: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE relay_checkpoints SET topic_id = $2 WHERE topic = $1", self.config.topic, topic_id
            )

    async def _advance_confirmed(self, committed: dict[str, dict[int, int]]) -> None:
        """Move the confirmed point to the oldest event some group has not committed, and prune."""
        topic = self.config.topic
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT partition, first_offset, last_offset, transaction_id::text::bigint AS tx, position"
                " FROM relay_offsets WHERE topic = $1 ORDER BY partition, first_offset",
                topic,
            )
            by_partition: dict[int, list[asyncpg.Record]] = defaultdict(list)
            for r in rows:
                by_partition[r["partition"]].append(r)
            checkpoint = await self._checkpoint(conn)
            confirmed = checkpoint
            for partition, batches in by_partition.items():
                lowest = min((offsets.get(partition, -1) for offsets in committed.values()), default=None)
                if lowest is None:  # nobody depends on this topic
                    continue
                if lowest > batches[-1]["last_offset"]:
                    continue  # every group has everything of this partition
                # The batch holding the first unconfirmed offset, and every batch after it, may hold events
                # not yet handled: everything before the lowest position among them is confirmed (after a
                # change of publisher a later offset can carry an earlier position).
                unconfirmed = [b for b in batches if b["last_offset"] >= lowest]
                holding = unconfirmed[0]
                earliest = min(GlobalPosition(b["tx"], b["position"]) for b in unconfirmed)
                confirmed = min(confirmed, GlobalPosition(earliest.transaction_id, earliest.position - 1))
                await conn.execute(
                    "DELETE FROM relay_offsets WHERE topic = $1 AND partition = $2 AND last_offset < $3",
                    topic,
                    partition,
                    holding["first_offset"],
                )
            await conn.execute(
                "UPDATE relay_checkpoints SET confirmed_transaction_id = $2::text::xid8,"
                " confirmed_position = $3 WHERE topic = $1",
                topic,
                str(confirmed.transaction_id),
                confirmed.position,
            )
            lag = await conn.fetchval(
                "SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2)",
                str(checkpoint.transaction_id),
                checkpoint.position,
            )
        RELAY_LAG.labels(topic).set(lag)

    async def _rewind_to_confirmed(self, reason: str) -> None:
        topic = self.config.topic
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT transaction_id::text::bigint AS tx, position, confirmed_transaction_id::text::bigint"
                " AS ctx, confirmed_position AS cpos FROM relay_checkpoints WHERE topic = $1 FOR UPDATE",
                topic,
            )
            published = GlobalPosition(row["tx"], row["position"])
            confirmed = GlobalPosition(row["ctx"], row["cpos"])
            await conn.execute("DELETE FROM relay_offsets WHERE topic = $1", topic)
            await conn.execute(
                "UPDATE relay_checkpoints SET transaction_id = confirmed_transaction_id,"
                " position = confirmed_position, topic_id = NULL, updated_at = now() WHERE topic = $1",
                topic,
            )
        BROKER_RESETS.labels(topic).inc()
        self._published = confirmed
        self._republish_until = published
        log.warning(
            "relay.broker_reset",
            topic=topic,
            reason=reason,
            republish_from=confirmed.position,
            republish_until=published.position,
        )
        # Our producer's idempotence sequence belongs to the old broker; start a fresh one.
        if self._producer is not None:
            await asyncio.to_thread(self._producer.close)
        self._producer = await asyncio.to_thread(kafka_clients.producer, self.bootstrap, f"relay-{topic}")
        await asyncio.to_thread(self._ensure_topic)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
