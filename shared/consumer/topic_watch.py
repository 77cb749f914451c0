"""Tells a running consumer that a topic it reads was recreated, so it reads the new one from its start.

A broker that comes back empty shows itself by topic ids (KIP-516): a recreated topic gets a new one,
whoever recreated it (the relay, or the broker on a client's metadata request). The watch asks the broker
for the ids of the consumer's topics every few seconds and remembers the last id it saw of each, through
the broker's absence; a different id starts the topic again (`faust_transport.Consumer.start_topic_again`).

It also tells the consumer's loop handle when records wait: a partition of this worker whose end offset is
past the group's committed offset, or records fetched that nothing handled yet. The consumer's batches mark
progress; a consumer that stops fetching or handling (nothing else would notice: no batch, no error)
therefore shows as stalled in `/health` once the loop stall time passes, and the orchestrator restarts it.
A topic the consumer reads that is missing (a worker started before the relay that publishes it, or a broker
that came back empty) is created with the configured partitions, and the consumer told to read its metadata.

A worker that has no partition at all (a group whose rebalance never ended, seen with two workers after the
broker came back empty) still counts the group's work as its own when records wait on some partition and
the group's commits have not moved since its last look: nobody reads them, and it would otherwise look idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from shared import kafka as kafka_clients
from shared.logging import get_logger
from shared.metrics import CONSUMER_TOPIC_RESTARTS
from shared.supervisor import LoopHandle

log = get_logger(__name__)

CHECK_SECONDS = 2.0


class TopicWatch:
    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        recreated: Callable[[str], Awaitable[object]],
        *,
        consumer_name: str,
        group: str | None = None,
        assigned: Callable[[], Collection[tuple[str, int]]] = frozenset,
        handle: LoopHandle | None = None,
        fetched_unhandled: Callable[[], bool] = lambda: False,
        partitions: int | None = None,
        refresh: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.recreated = recreated
        self.consumer_name = consumer_name
        self.known: dict[str, str] = {}  # topic → the id last seen
        self.group = group
        self.assigned = assigned  # (topic, partition) pairs this worker reads now
        self.handle = handle
        self.fetched_unhandled = fetched_unhandled  # records fetched here that nothing handled yet
        self._admin: KafkaAdminClient | None = None
        self._marked_busy = False  # this watch gave the consumer's loop work that no batch has ended since
        self._waiting_before: dict[tuple[str, int], tuple[int, int]] = {}  # at the last look
        self._waiting_logged: dict[tuple[str, int], tuple[int, int]] = {}
        self._partitions: dict[str, list[int]] = {}  # topic → its partitions, at the last look
        self._unread_before: dict[tuple[str, int], int] | None = None  # group commits of waiting partitions
        self.partitions = partitions  # a missing topic is created with this many partitions (None: left missing)
        self.refresh = refresh  # asks the consumer to read the topics' metadata now
        self._absent: set[str] = set()  # topics missing at the last look

    async def check(self, recreated: Callable[[str], Awaitable[object]] | None = None) -> list[str]:
        """Look once; hand every recreated topic to `recreated` (by default the one given at construction).
        Returns those topics."""
        try:
            ids, came_back = await asyncio.to_thread(self._describe)
            assigned = set(self.assigned())
            waiting = await asyncio.to_thread(self._records_waiting, assigned)
            waiting = waiting or await asyncio.to_thread(self._group_not_reading, assigned)
        except (KafkaError, OSError) as error:  # the broker is away: keep what we knew and look again next time
            log.debug("consumer.topic_watch_unavailable", consumer=self.consumer_name, error=repr(error))
            if self.handle is not None:
                self.handle.dependency_unavailable()  # waiting for the broker is not a stall
            self._close()
            return []
        if self.handle is not None:
            if waiting or self.fetched_unhandled():
                self.handle.busy()
                self._marked_busy = True
            elif self._marked_busy:
                # Nothing waits any more. Records seen waiting only because the group's commit trails the
                # last batch by its commit interval would otherwise keep the loop busy until a next batch,
                # which never comes while no new records do: a false stall.
                self.handle.idle()
                self._marked_busy = False
        if came_back and self.refresh is not None:
            # The consumer learns of a topic that appears only when it next reads metadata (aiokafka: minutes
            # away); the group then assigns its partitions.
            await self.refresh()
        started = []
        for topic, topic_id in ids.items():
            if topic_id is None:
                continue  # missing now (or no ids on this broker): what we knew still stands
            before = self.known.get(topic)
            self.known[topic] = topic_id
            if before is not None and before != topic_id:
                log.warning("consumer.topic_recreated", consumer=self.consumer_name, topic=topic)
                CONSUMER_TOPIC_RESTARTS.labels(self.consumer_name, topic).inc()
                await (recreated or self.recreated)(topic)
                started.append(topic)
        return started

    def _describe(self) -> tuple[dict[str, str | None], list[str]]:
        """The topics' ids (None: missing), and the topics that are there now but were missing at the last
        look or a moment ago. A missing topic is created with `partitions`: no client creates topics (a
        metadata request would give them the broker's default partition count), and a consumer that started
        before the relay that publishes the topic, or a broker that came back empty, would otherwise leave
        the group with nothing to read until the relay's next look."""
        if self._admin is None:
            self._admin = kafka_clients.admin(self.bootstrap, f"{self.consumer_name}-topic-watch")
        found: dict[str, str | None] = {}
        came_back = []
        absent = set()
        for topic in self.topics:
            described = kafka_clients.describe_topic(self._admin, topic)
            if described is None and self.partitions is not None:
                if kafka_clients.ensure_topics(self._admin, [topic], self.partitions):
                    log.info("consumer.topic_created", consumer=self.consumer_name, topic=topic)
                described = kafka_clients.describe_topic(self._admin, topic)
                if described is not None:
                    came_back.append(topic)
            if described is None:
                absent.add(topic)
            elif topic in self._absent and topic not in came_back:
                came_back.append(topic)
            found[topic] = described[0] if described else None
            self._partitions[topic] = described[1] if described else []
        self._absent = absent
        return found, came_back

    def _records_waiting(self, assigned: set[tuple[str, int]]) -> bool:
        """Whether a partition assigned here has records past the group's committed offset. The same records
        found waiting at two looks in a row (neither the end nor the commit moved) are logged once."""
        if self.group is None or not assigned:
            return False
        assert self._admin is not None
        waiting: dict[tuple[str, int], tuple[int, int]] = {}
        for topic in {topic for topic, _ in assigned}:
            partitions = sorted(p for t, p in assigned if t == topic)
            ends = kafka_clients.end_offsets(self._admin, topic, partitions) or {}
            committed = kafka_clients.committed_offsets(self._admin, self.group, topic)
            for p in partitions:
                if ends.get(p, 0) > committed.get(p, 0):
                    waiting[topic, p] = (ends.get(p, 0), committed.get(p, 0))
        if waiting and waiting == self._waiting_before and waiting != self._waiting_logged:
            log.info(
                "consumer.records_waiting",
                consumer=self.consumer_name,
                partitions={f"{t}[{p}]": {"end": end, "committed": c} for (t, p), (end, c) in waiting.items()},
            )
            self._waiting_logged = waiting
        self._waiting_before = waiting
        return bool(waiting)

    def _group_not_reading(self, assigned: set[tuple[str, int]]) -> bool:
        """With no partition assigned here: whether records wait on a partition of the group and the group's
        commits of the waiting partitions have not moved since the last look (nobody in the group reads them).
        Commits that move mean another worker reads them: no work of this one."""
        if self.group is None or assigned:
            self._unread_before = None
            return False
        waiting = self._group_waiting()
        commits = {tp: committed for tp, (_, committed) in waiting.items()}
        before, self._unread_before = self._unread_before, commits
        stuck = bool(waiting) and before is not None and all(before.get(tp) == c for tp, c in commits.items())
        if stuck and waiting != self._waiting_logged:
            log.warning(
                "consumer.group_not_reading",
                consumer=self.consumer_name,
                partitions={f"{t}[{p}]": {"end": end, "committed": c} for (t, p), (end, c) in waiting.items()},
            )
            self._waiting_logged = waiting
        return stuck

    def _group_waiting(self) -> dict[tuple[str, int], tuple[int, int]]:
        """(topic, partition) → (end, the group's commit) of every partition of the topics with records past
        the group's commit."""
        assert self._admin is not None and self.group is not None
        waiting: dict[tuple[str, int], tuple[int, int]] = {}
        for topic in self.topics:
            partitions = self._partitions.get(topic) or []
            if not partitions:
                continue
            ends = kafka_clients.end_offsets(self._admin, topic, partitions) or {}
            committed = kafka_clients.committed_offsets(self._admin, self.group, topic)
            for p in partitions:
                if ends.get(p, 0) > committed.get(p, 0):
                    waiting[topic, p] = (ends.get(p, 0), committed.get(p, 0))
        return waiting

    def _close(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            except (KafkaError, OSError):  # closing a client whose broker is gone may fail; it is dropped either way
                pass
            self._admin = None

    def close(self) -> None:
        self._close()
