"""faust's aiokafka transport as the consumers use it: two changes to faust's Kafka driver, both made here by
subclassing, none by patching faust.

**The fetch wait.** faust hard-codes the consumer's fetch max wait at 1500 ms. tansu answers a fetch only when
that wait runs out, however soon a record arrives (measured: 250–680 ms per hop at 1500 ms, 1–24 ms at 50 ms),
so every consumer hop would add up to 1.5 s. The transport's `fetch_max_wait_ms` (the `consumer_fetch_max_wait_ms`
setting, which says what polling costs) replaces it; a real Kafka broker answers as soon as data arrives either
way, and only polls a little more often when idle.

**Delivering a fetched record without four tasks.** faust's fetcher hands every record to the streams with
`await consumer.wait_first(deliver(record), consumer.suspend_flow.wait())`: deliver, unless a rebalance stops the
flow while the delivery waits (for room in a stream's buffer, or for flow control). mode's `wait_first` starts a
task for each of the two and for the consumer's stopped and crashed events, and waits on all four with
`asyncio.wait`: measured as a few per cent of the whole system's CPU, for a delivery that nearly always finishes
without waiting at all (the stream has room and the flow runs). `Consumer.wait_first` therefore runs the
delivery first, as Python 3.12's eager tasks do. When it finishes without waiting, that is the first to finish
and no task is made. When it has to wait, it goes on, already started, under mode's `wait_first` as before, so
a rebalance still abandons it exactly as faust intends.

**A topic that starts again from offset 0.** A broker that comes back empty (tansu keeps nothing) recreates
the topic with offsets from 0, below where the consumer had read. faust remembers, per partition, the last
offset it read (and drops any record at or below it as already read), the offset it committed (and commits
nothing lower) and the offsets acknowledged but not yet committed; none of that is reset unless the group
rebalances, and a rebalance seeks to the committed offset, which the empty broker does not have. The
relay republishes the events its consumers had not confirmed into the new topic, so records below the old
read offset were skipped: a loss. `Consumer.start_topic_again` forgets that state for the topic's
partitions, seeks them to the new topic's start and refreshes the metadata (the new topic may have another
number of partitions, which makes the group rebalance). A record fetched before that, or before the group last
rebalanced, and delivered afterwards is neither acknowledged (its offset means nothing now: committing it
would tell the broker, and the relay that reads the commits, that records never handled were) nor taken as
the partition's read offset (which would drop the new records below it). The inbox makes reading records
again harmless. `shared.consumer.topic_watch` tells when a topic was recreated; it also looks when
partitions are assigned, before the flow resumes, so that a rebalance on the emptied broker never reads
on with what was known of the old topic.

**A consumer never creates a topic by asking for it.** aiokafka asks for the metadata of the topics it reads
with "create them if missing" (its MetadataRequest sets `allow_auto_topic_creation` and offers no setting for
it), so after a broker came back empty the first consumer to ask recreated every topic with the broker's
default partition count (tansu: 4) before the relay created it with the configured one (6), and groups of
two workers never finished rebalancing over the change. `ClientThatCreatesNoTopics` asks without creating;
a missing topic is created with the configured partitions by the consumer's topic watch (or the relay), and
the watch has the consumer read the metadata at once. When a partition count changes all the same,
`RejoinAsNewMember` makes the group rebalance for it on tansu too.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Mapping, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from aiokafka import AIOKafkaClient
from aiokafka.client import ConnectionGroup
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import IllegalStateError, KafkaError
from aiokafka.protocol.group import JoinGroupRequest, LeaveGroupRequest
from aiokafka.protocol.metadata import MetadataRequest
from faust.transport.drivers import aiokafka
from faust.types import TP, Message
from faust.types.tuples import ack_lock
from mode.services import WaitResults

from shared.logging import get_logger

log = get_logger(__name__)


class _Resumed:
    """The rest of a coroutine that was run until it first waited on `waiting_on`: awaiting this (or making
    a task of it) goes on from there, passing on what the awaiting task sends or throws, as `await` would."""

    __slots__ = ("_coro", "_waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, waiting_on = self._coro, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except GeneratorExit:  # closed unfinished: close what it was running too
                coro.close()
                raise
            except BaseException as thrown:  # a cancellation, or the error of what it waited on
                try:
                    waiting_on = coro.throw(thrown)
                except StopIteration as finished:
                    return finished.value
            else:
                try:
                    waiting_on = coro.send(sent)
                except StopIteration as finished:
                    return finished.value


def run_until_it_waits(coro: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
    """Run `coro` until it first has to wait: (True, its result) when it finished before that, else
    (False, an awaitable that resumes it). An exception it raises before waiting propagates."""
    try:
        waiting_on = coro.send(None)
    except StopIteration as finished:
        return True, finished.value
    return False, _Resumed(coro, waiting_on)


class ClientThatCreatesNoTopics(AIOKafkaClient):  # type: ignore[misc]
    """aiokafka's client (aiokafka 0.14's `_metadata_update`, as it is but for the request's flag) whose
    metadata requests never ask the broker to create a missing topic."""

    async def _metadata_update(self, cluster_metadata: ClusterMetadata, topics: Any) -> bool:
        metadata_request = MetadataRequest(list(topics) if topics else None, allow_auto_topic_creation=False)
        nodeids: list[Any] = [b.nodeId for b in self.cluster.brokers()]
        bootstrap_id = ("bootstrap", ConnectionGroup.DEFAULT)
        if bootstrap_id in self._conns:
            nodeids.append("bootstrap")
        random.shuffle(nodeids)
        for node_id in nodeids:
            conn = await self._get_conn(node_id)
            if conn is None:
                continue
            try:
                metadata = await conn.send(metadata_request)
            except (TimeoutError, KafkaError):
                continue
            if not metadata.brokers:  # no valid nodes: the topic may still be being created
                return False
            cluster_metadata.update_metadata(metadata)
            # The bootstrap connection only serves until the cluster's layout is known.
            if bootstrap_id in self._conns and len(self.cluster.brokers()):
                self._conns.pop(bootstrap_id).close()
            break
        else:
            cluster_metadata.failed_update(None)
            return False
        return True


class RejoinAsNewMember:
    """A listener on the consumer's cluster metadata: when a subscribed topic's partition count changes, the
    worker leaves its group and joins again as a new member.

    aiokafka rejoins the group with the same member id when a partition count changes (a topic created after
    the worker joined, or created again after the broker came back empty). tansu (0.6) answers a member that
    rejoins with unchanged metadata with the assignment it already had, in the same generation (its
    generations stay 0): the leader's new assignment, computed with the new count, reached nobody, and the
    partitions it added stayed unread for good — with one worker as with two. Kafka rebalances whenever the
    leader rejoins; a new member makes every broker rebalance. (aiokafka sends no LeaveGroup in generation 0,
    so it is sent here.)"""

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer
        self._counts: dict[str, int] = {}
        self._leaving: set[asyncio.Task[None]] = set()

    def __call__(self, cluster: ClusterMetadata) -> None:
        coordinator = self._consumer._coordinator
        topics = self._consumer._subscription.topics
        if coordinator is None or not topics:
            return
        counts = {topic: len(cluster.partitions_for_topic(topic) or ()) for topic in topics}
        before, self._counts = self._counts, counts
        changed = {t: (before[t], n) for t, n in counts.items() if t in before and before[t] != n}
        if not changed or coordinator.member_id == JoinGroupRequest.UNKNOWN_MEMBER_ID:
            return
        log.info("consumer.partition_count_changed", group=coordinator.group_id, topics=changed)
        leaving = asyncio.get_running_loop().create_task(self._leave(coordinator, coordinator.member_id))
        self._leaving.add(leaving)
        leaving.add_done_callback(self._leaving.discard)
        coordinator.reset_generation()  # before the rejoin aiokafka requested for the change starts

    @staticmethod
    async def _leave(coordinator: Any, member_id: str) -> None:
        try:
            await coordinator._send_req(LeaveGroupRequest(coordinator.group_id, member_id))
        except (KafkaError, TimeoutError) as error:  # best effort: the old member times out otherwise
            log.info("consumer.leave_group_failed", group=coordinator.group_id, error=repr(error))


class ConsumerThread(aiokafka.AIOKafkaConsumerThread):
    """The thread that runs aiokafka's consumer, which fetches with the transport's `fetch_max_wait_ms`."""

    def _create_worker_consumer(self, transport: aiokafka.Transport) -> Any:
        assert isinstance(transport, Transport)  # the thread of `Consumer` below, which `Transport` makes
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = transport.fetch_max_wait_ms  # read by start() when it builds its fetcher
        # The same client with one method more (no state of its own), before start() hands it to the fetcher
        # and the group coordinator.
        consumer._client.__class__ = ClientThatCreatesNoTopics
        return consumer

    async def on_start(self) -> None:
        await super().on_start()
        consumer = self._ensure_consumer()
        consumer._client.cluster.add_listener(RejoinAsNewMember(consumer))

    # faust declares the offsets int; aiokafka's are None for a partition the group has no commit for.
    async def seek_to_committed(self) -> Mapping[TP, int | None]:  # type: ignore[override]
        committed: Mapping[TP, int | None] = await self.call_thread(self._seek_to_committed_or_start)
        return committed

    async def _seek_to_committed_or_start(self) -> Mapping[TP, int | None]:
        """Seek every assigned partition to the group's committed offset, and a partition the group has no
        commit for to its start. aiokafka's `seek_to_committed` leaves such a partition where its fetcher got
        to; faust drops the records it fetched but had not delivered when a rebalance stops the flow, and
        seeks to the committed offsets to read them again. With no commit (a broker that came back empty
        keeps none) those records were never read again: the loss of the broker-empty fault."""
        consumer = self._ensure_consumer()
        committed: dict[TP, int | None] = await consumer.seek_to_committed()
        uncommitted = [tp for tp, offset in committed.items() if offset is None or offset <= 0]
        if uncommitted:
            await consumer.seek_to_beginning(*uncommitted)
        return committed


class _ReadOffsets(defaultdict[TP, int | None]):
    """faust's last read offset per partition (records at or below it are dropped as read), which takes no
    offset of a record fetched before its topic started again or the group last rebalanced: a delivery under
    way when the topic starts again would otherwise set an old offset back and drop the new topic's records
    below it."""

    def __init__(self, fetched_now: Callable[[TP], bool]) -> None:
        super().__init__(lambda: None)
        self._fetched_now = fetched_now

    def __setitem__(self, tp: TP, offset: int | None) -> None:
        if self._fetched_now(tp):
            super().__setitem__(tp, offset)


class Consumer(aiokafka.Consumer):
    """faust's aiokafka consumer on the thread above; faust calls `wait_first` only to deliver a fetched
    record. Records carry the epoch they were fetched in (group rebalances, starts of their topic): the
    offset of a record from an older epoch is neither acknowledged nor taken as read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rebalances = 0
        self._topic_starts: Counter[str] = Counter()  # how often each topic was started again
        self._fetched_in: WeakKeyDictionary[Message, tuple[int, int]] = WeakKeyDictionary()
        self._last_fetched: dict[TP, tuple[int, int]] = {}  # epoch of the last record fetched per partition
        # The highest offset fetched and handled per partition in the current epoch: fetched past handled for
        # long means records wait in faust's streams and nothing handles them (the topic watch reports it).
        self._fetched_upto: dict[TP, int] = {}
        self._handled_upto: dict[TP, int] = {}
        self._read_offset = _ReadOffsets(self._fetched_now)
        # Called when partitions are assigned, before the flow resumes (the topic watch: a rebalance after
        # the broker came back empty must not read on with what was known of the old topics).
        self.before_assignment: Callable[[], Awaitable[object]] | None = None

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _epoch(self, topic: str) -> tuple[int, int]:
        return self._rebalances, self._topic_starts[topic]

    def _fetched_now(self, tp: TP) -> bool:
        current = self._epoch(tp.topic)
        return self._last_fetched.get(tp, current) == current

    def _to_message(self, tp: TP, record: Any) -> Any:
        message = super()._to_message(tp, record)
        self._fetched_in[message] = self._last_fetched[tp] = self._epoch(tp.topic)
        self._fetched_upto[tp] = max(self._fetched_upto.get(tp, -1), message.offset)
        return message

    def handled(self, messages: Sequence[Message]) -> None:
        """The agent handled these (records of an older epoch say nothing of the current one)."""
        for message in messages:
            if self._fetched_in.get(message) == self._epoch(message.topic):
                self._handled_upto[message.tp] = max(self._handled_upto.get(message.tp, -1), message.offset)

    def fetched_unhandled(self) -> bool:
        """Whether a record fetched in the current epoch has not been handled yet."""
        return any(offset > self._handled_upto.get(tp, -1) for tp, offset in self._fetched_upto.items())

    def _forget_progress(self, partitions: Iterable[TP]) -> None:
        for tp in partitions:
            self._fetched_upto.pop(tp, None)
            self._handled_upto.pop(tp, None)

    def ack(self, message: Message) -> bool:
        current = self._epoch(message.topic)
        if self._fetched_in.get(message, current) != current:
            with ack_lock:  # fetched in an older epoch: its offset means nothing for what is committed now
                message.acked = True
                self._unacked_messages.discard(message)
            return False
        return super().ack(message)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._rebalances += 1
        self._forget_progress(list(self._fetched_upto))
        await super().on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        if self.before_assignment is not None:
            await self.before_assignment()
        await super().on_partitions_assigned(assigned, generation_id)

    def forget_topic(self, topic: str) -> list[TP]:
        """Forget what was read, acknowledged and committed of `topic`: the broker recreated it. Returns its
        partitions assigned here."""
        with ack_lock:
            self._topic_starts[topic] += 1
            partitions = [tp for tp in self.assignment() if tp.topic == topic]
            self._forget_progress([tp for tp in self._fetched_upto if tp.topic == topic])
            for tp in partitions:
                self._read_offset.pop(tp, None)
                self._committed_offset.pop(tp, None)
                self._acked.pop(tp, None)
                self._acked_index.pop(tp, None)
                self._gap.pop(tp, None)
        return partitions

    async def start_topic_again(self, topic: str) -> list[TP]:
        """Forget `topic` (above) and read its partitions from the start. Returns the partitions sought."""
        partitions = self.forget_topic(topic)
        thread = self._thread

        async def seek_to_start() -> list[TP]:
            # On the consumer's own thread and event loop: aiokafka's fetcher is not thread-safe, and a seek
            # from another thread may leave its fetch waiting unwoken.
            sought = []
            for tp in partitions:
                try:
                    thread.seek(tp, 0)
                except IllegalStateError:  # no longer ours: the rebalance under way reads its position afresh
                    continue
                sought.append(tp)
            # The new topic may have another number of partitions (a client's metadata request can create it
            # with the broker's default before the relay creates it): fresh metadata lets aiokafka see that and
            # rejoin the group, else the new partitions would wait for the next refresh, minutes away.
            await thread._ensure_consumer()._client.force_metadata_update()
            return sought

        sought: list[TP] = await thread.call_thread(seek_to_start)
        return sought

    async def refresh_metadata(self) -> None:
        """Have aiokafka read the cluster's metadata now (on the consumer's thread); nothing before it started."""
        thread = self._thread
        if thread is None or thread._consumer is None:
            return

        async def refresh() -> None:
            await thread._ensure_consumer()._client.force_metadata_update()

        await thread.call_thread(refresh)

    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:
        first, *others = coros
        if not isinstance(first, Coroutine) or self._stopped.is_set() or self._crashed.is_set():
            return await super().wait_first(*coros, timeout=timeout)
        try:
            finished, outcome = run_until_it_waits(first)
        except BaseException:
            _close(others)
            raise
        if finished:
            _close(others)
            return WaitResults([first], [outcome], False)
        return await super().wait_first(outcome, *others, timeout=timeout)


class Transport(aiokafka.Transport):
    """faust's aiokafka transport with the consumer above (set as the app's `transport`), whose thread fetches
    with `fetch_max_wait_ms`."""

    Consumer = Consumer
    fetch_max_wait_ms: int = 1500  # faust's own; `create_faust_app` sets the setting's


def _close(awaitables: list[Any]) -> None:
    """Close the coroutines that will not be awaited now (else Python warns that they never were)."""
    for awaitable in awaitables:
        if isinstance(awaitable, Coroutine):
            awaitable.close()
