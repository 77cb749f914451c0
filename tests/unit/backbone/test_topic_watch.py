"""The topic watch: a topic whose id changed is started again, once; an absent topic or broker changes nothing."""

from __future__ import annotations

from kafka.errors import KafkaConnectionError

from shared.consumer.topic_watch import TopicWatch
from shared.supervisor import LoopHandle


class Scripted(TopicWatch):
    """A watch whose broker answers are given by the test, one answer per look."""

    def __init__(self, answers):
        self.started: list[str] = []

        async def recreated(topic: str) -> None:
            self.started.append(topic)

        super().__init__("unused:9092", ["a", "b"], recreated, consumer_name="test")
        self.answers = list(answers)

    def _describe(self):
        """An answer is the topics' ids, or (ids, the topics that came back since the last look)."""
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer if isinstance(answer, tuple) else (answer, [])


async def test_a_topic_seen_with_a_new_id_is_started_again_once():
    watch = Scripted([{"a": "id-1", "b": "id-7"}, {"a": "id-2", "b": "id-7"}, {"a": "id-2", "b": "id-7"}])
    assert await watch.check() == []
    assert await watch.check() == ["a"]
    assert await watch.check() == []
    assert watch.started == ["a"]


async def test_the_id_seen_before_the_broker_went_away_is_remembered_through_its_absence():
    watch = Scripted(
        [
            {"a": "id-1", "b": "id-7"},
            KafkaConnectionError(),
            {"a": None, "b": None},  # back, empty, topics not yet recreated
            {"a": "id-2", "b": "id-8"},
        ]
    )
    for _ in range(3):
        assert await watch.check() == []
    assert await watch.check() == ["a", "b"]


async def test_a_topic_that_came_back_has_the_consumer_read_its_metadata_at_once():
    refreshed = []

    async def refresh() -> None:
        refreshed.append(True)

    watch = Scripted([({"a": None, "b": "id-7"}, []), ({"a": "id-1", "b": "id-7"}, ["a"]), {"a": "id-1", "b": "id-7"}])
    watch.refresh = refresh
    await watch.check()
    assert refreshed == []
    await watch.check()
    assert refreshed == [True]
    await watch.check()
    assert refreshed == [True]


async def test_a_broker_without_topic_ids_never_starts_a_topic_again():
    watch = Scripted([{"a": None, "b": None}, {"a": None, "b": None}])
    assert await watch.check() == [] and await watch.check() == []
    assert watch.started == []


async def test_records_fetched_and_not_handled_give_the_consumers_loop_work_and_none_when_all_are_handled():
    unhandled = [True]
    watch = Scripted([{"a": "id-1", "b": "id-7"}, {"a": "id-1", "b": "id-7"}])
    watch.handle = LoopHandle("consumer:test")
    watch.fetched_unhandled = lambda: unhandled[0]
    watch._records_waiting = lambda assigned: False  # the broker shows no lag (tansu's end offsets lag behind)
    await watch.check()
    assert watch.handle.has_work
    watch.handle.idle()  # a batch was handled
    unhandled[0] = False
    await watch.check()
    assert not watch.handle.has_work


async def test_records_seen_waiting_while_the_commit_trailed_the_last_batch_leave_no_work_once_committed():
    """The last batch before a quiet spell (the database away, so nothing is published) ends; the watch looks
    before the group's commit caught up and sees records waiting. At its next look they are committed: the
    loop has no work, so it cannot count as stalled while nothing new arrives."""
    clock = [0.0]
    waiting = [True]
    watch = Scripted([{"a": "id-1", "b": "id-7"}] * 3)
    watch.handle = LoopHandle("consumer:test", now=lambda: clock[0])
    watch._records_waiting = lambda assigned: waiting[0]
    await watch.check()
    assert watch.handle.has_work
    waiting[0] = False  # the commit caught up
    await watch.check()
    clock[0] += 120
    assert not watch.handle.has_work
    assert not watch.handle.stalled(30)
    waiting[0] = True  # records wait again and nothing handles them: work without progress
    await watch.check()
    clock[0] += 31
    assert watch.handle.stalled(30)


async def test_a_worker_without_partitions_counts_the_groups_unread_records_as_its_work_until_commits_move():
    """Two workers after the broker came back empty: the group's rebalance never ended, neither worker has a
    partition, records wait and nobody reads them. Each worker shows the work as its own and stalls; once the
    group's commits move (another worker reads them), it has no work of its own."""
    clock = [0.0]
    watch = Scripted([{"a": "id-1", "b": "id-7"}] * 5)
    watch.group = "pathway"
    watch.handle = LoopHandle("consumer:test", now=lambda: clock[0])
    watch._admin = object()  # type: ignore[assignment]  # the lag is scripted below
    lag = [{("a", 0): (360, 0), ("a", 1): (311, 0)}]
    watch._group_waiting = lambda: lag[0]
    watch._records_waiting = lambda assigned: False  # nothing assigned here

    await watch.check()
    assert not watch.handle.has_work  # one look: no telling yet whether anyone reads them
    await watch.check()
    assert watch.handle.has_work  # the commits did not move
    clock[0] += 31
    assert watch.handle.stalled(30)

    lag[0] = {("a", 0): (380, 120), ("a", 1): (311, 0)}  # a worker reads again: commits move
    await watch.check()
    assert not watch.handle.has_work and not watch.handle.stalled(30)


async def test_a_worker_with_partitions_leaves_the_rest_of_the_group_to_its_owners():
    watch = Scripted([{"a": "id-1", "b": "id-7"}] * 2)
    watch.group = "pathway"
    watch.handle = LoopHandle("consumer:test")
    watch._admin = object()  # type: ignore[assignment]
    watch.assigned = lambda: {("a", 0)}
    watch._group_waiting = lambda: {("a", 1): (311, 0)}  # another worker's partition lags
    watch._records_waiting = lambda assigned: False  # its own does not
    await watch.check()
    await watch.check()
    assert not watch.handle.has_work
