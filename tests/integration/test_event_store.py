"""The event store on real PostgreSQL: optimistic concurrency, commit-order reading, replay."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider

from shared import tracing
from shared.clock import ManualClock
from shared.events import REGISTRY
from shared.events.envelope import new_envelope
from shared.events.intake import ReferralReceived, sample_referral
from shared.events.pathway import EvaluationScheduled
from shared.store.event_store import START, ConcurrencyConflict, EventStore, GlobalPosition, PendingEvent
from shared.store.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration

STORE = EventStore("intake", REGISTRY)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def referral(n: int = 0) -> ReferralReceived:
    return sample_referral(f"{4000000 + n:08d}")


async def append(conn, stream: str, expected: int, *payloads):
    return await STORE.append(conn, stream, expected, list(payloads), time=NOW, correlation_id=uuid.uuid4())


async def test_appended_events_read_back_in_stream_order_with_their_envelope(store_pool: asyncpg.Pool):
    stream = str(uuid.uuid4())
    async with store_pool.acquire() as conn:
        written = await append(conn, stream, 0, referral(1), referral(2))
        read = await STORE.read_stream(conn, stream)
    assert [e.stream_version for e in read] == [1, 2]
    assert [e.event_id for e in read] == [e.event_id for e in written]
    assert read[1].payload(REGISTRY) == referral(2)
    assert read[0].envelope().subject == stream


async def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(store_pool: asyncpg.Pool):
    stream = str(uuid.uuid4())
    async with store_pool.acquire() as conn:
        await append(conn, stream, 0, referral())
        with pytest.raises(ConcurrencyConflict) as conflict:
            await append(conn, stream, 0, referral(1), referral(2))
        assert conflict.value.actual_version == 1
        with pytest.raises(ConcurrencyConflict):
            await append(conn, stream, 5, referral(3))  # ahead of the stream is no better
        assert await STORE.stream_version(conn, stream) == 1
        assert await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream) == 1


async def test_of_two_concurrent_writers_at_one_version_exactly_one_wins(store_pool: asyncpg.Pool):
    stream = str(uuid.uuid4())

    async def writer(n: int) -> bool:
        async with store_pool.acquire() as conn:
            try:
                await append(conn, stream, 0, referral(n))
                return True
            except ConcurrencyConflict:
                return False

    results = await asyncio.gather(*(writer(n) for n in range(8)))
    assert sorted(results) == [False] * 7 + [True]


async def test_an_unregistered_type_never_reaches_the_log(store_pool: asyncpg.Pool):
    from typing import ClassVar

    from shared.events.payload import EventPayload

    class Unregistered(EventPayload):
        event_type: ClassVar[str] = "nl.ruggengraat.test.Unregistered"
        topic: ClassVar[str] = "test"

    async with store_pool.acquire() as conn:
        with pytest.raises(LookupError):
            await append(conn, "s", 0, Unregistered())
        assert await conn.fetchval("SELECT count(*) FROM events") == 0


async def test_a_reader_waits_for_a_late_commit_instead_of_skipping_it(store_pool: asyncpg.Pool):
    slow = await store_pool.acquire()
    fast = await store_pool.acquire()
    reader = await store_pool.acquire()
    try:
        tx = slow.transaction()
        await tx.start()
        [late] = await append(slow, "slow-stream", 0, referral(1))  # takes the lower position, commits later
        [early] = await append(fast, "fast-stream", 0, referral(2))  # committed at once
        assert late.global_position.position < early.global_position.position
        # A reader following positions alone would return `early` now and never see `late`.
        assert await STORE.read_all(reader, START) == []
        await tx.commit()
        seen = await STORE.read_all(reader, START)
        assert [e.event_id for e in seen] == [late.event_id, early.event_id]
    finally:
        for conn in (slow, fast, reader):
            await store_pool.release(conn)


async def test_a_tailing_reader_sees_every_event_of_concurrent_writers_exactly_once(store_pool: asyncpg.Pool):
    writers, per_writer = 8, 40
    done = asyncio.Event()
    seen: list[uuid.UUID] = []

    async def writer(w: int) -> list[uuid.UUID]:
        ids = []
        rng = random.Random(w)
        for i in range(per_writer):
            async with store_pool.acquire() as conn, conn.transaction():
                [event] = await append(conn, f"w{w}-{i}", 0, referral(w))
                await asyncio.sleep(rng.random() * 0.004)  # hold the commit back a little, at random
            ids.append(event.event_id)
        return ids

    async def tail() -> None:
        position = START
        async with store_pool.acquire() as conn:
            while True:
                batch = await STORE.read_all(conn, position, 50)
                seen.extend(e.event_id for e in batch)
                if batch:
                    assert batch[-1].global_position > position
                    position = batch[-1].global_position
                elif done.is_set():
                    return
                else:
                    await asyncio.sleep(0.001)

    reader = asyncio.create_task(tail())
    written = await asyncio.gather(*(writer(w) for w in range(writers)))
    done.set()
    await asyncio.sleep(0.05)
    await reader
    expected = {i for ids in written for i in ids}
    assert len(seen) == len(set(seen)) == writers * per_writer
    assert set(seen) == expected


async def test_replay_decodes_every_event_in_commit_order(store_pool: asyncpg.Pool):
    async with store_pool.acquire() as conn:
        for n in range(25):
            await append(conn, f"stream-{n}", 0, referral(n))
            await STORE.append(
                conn,
                f"stream-{n}",
                1,
                [EvaluationScheduled(timer_id=uuid.uuid4(), evaluation_number=1, due_at=NOW)],
                time=NOW,
                correlation_id=uuid.uuid4(),
            )
    payloads = [e.payload(REGISTRY) async for e in STORE.replay(store_pool, START, batch_size=7)]
    assert len(payloads) == 50
    assert [type(p).__name__ for p in payloads[:4]] == [
        "ReferralReceived",
        "EvaluationScheduled",
        "ReferralReceived",
        "EvaluationScheduled",
    ]
    positions = [e.global_position async for e in STORE.replay(store_pool, START, batch_size=7)]
    assert positions == sorted(positions)
    later = [e async for e in STORE.replay(store_pool, positions[39])]
    assert len(later) == 10 and isinstance(later[0].global_position, GlobalPosition)


async def test_read_payloads_gives_only_the_asked_types_of_each_stream_in_version_order(store_pool: asyncpg.Pool):
    first, second, other = (str(uuid.uuid4()) for _ in range(3))

    def scheduled(number: int) -> EvaluationScheduled:
        return EvaluationScheduled(timer_id=uuid.UUID(int=number), evaluation_number=number, due_at=NOW)

    async with store_pool.acquire() as conn:
        await append(conn, first, 0, referral(1), scheduled(1), scheduled(2))
        await append(conn, second, 0, scheduled(3), referral(2))
        await append(conn, other, 0, scheduled(4))
        rows = await STORE.read_payloads(conn, [second, first, str(uuid.uuid4())], [EvaluationScheduled.event_type])
    read = [(r["stream_id"], REGISTRY.decode_json(r["event_type"], r["data_version"], r["data"])) for r in rows]
    assert sorted(read, key=lambda r: r[0]) == read  # grouped by stream
    assert [p for s, p in read if s == first] == [scheduled(1), scheduled(2)]  # in version order
    assert [p for s, p in read if s == second] == [scheduled(3)]  # the referral left out
    assert all(r["occurred_at"] == NOW for r in rows) and len(rows) == 3  # nothing of a stream not asked for


async def test_an_append_to_several_streams_writes_all_or_nothing(store_pool: asyncpg.Pool):
    first, second, fresh = (str(uuid.uuid4()) for _ in range(3))
    cause = uuid.uuid4()

    def pending(stream: str, n: int) -> PendingEvent:
        return PendingEvent(stream, referral(n), uuid.uuid4(), cause, "kngf-lrp-2003")

    async with store_pool.acquire() as conn:
        await append(conn, first, 0, referral(1))
        await append(conn, second, 0, referral(2), referral(3))
        written = await STORE.append_many(
            conn,
            {first: 1, second: 2, fresh: 0},
            [pending(first, 4), pending(fresh, 5), pending(first, 6), pending(second, 7)],
            time=NOW,
        )
        assert [(e.stream_id, e.stream_version) for e in written] == [(first, 2), (fresh, 1), (first, 3), (second, 3)]
        streams = await STORE.read_streams(conn, [first, second, fresh, str(uuid.uuid4())])
        assert {s: [e.stream_version for e in events] for s, events in streams.items()} == {
            first: [1, 2, 3],
            second: [1, 2, 3],
            fresh: [1],
        }
        assert streams[first][2].payload(REGISTRY) == referral(6)
        assert streams[fresh][0].causation_id == cause and streams[fresh][0].guideline_version == "kngf-lrp-2003"

        # one stream moved on: the append raises, and the caller's transaction writes none of it
        with pytest.raises(ConcurrencyConflict) as conflict:
            async with conn.transaction():
                await STORE.append_many(conn, {first: 3, second: 1}, [pending(first, 8), pending(second, 9)], time=NOW)
        assert (conflict.value.stream_id, conflict.value.actual_version) == (second, 3)
        assert await STORE.stream_version(conn, first) == 3


async def test_while_traces_are_on_every_append_path_keeps_the_trace_context_it_ran_in(store_pool: asyncpg.Pool):
    """A request's own append and a statement's append carry the current span; a batch's appends carry the consumer
    span of each one's cause. Read back, the context is on the event, its envelope and the CloudEvent sent."""
    provider = TracerProvider()
    tracing.enable(provider)
    try:
        request, by_statement, consumed = (str(uuid.uuid4()) for _ in range(3))
        causes = [
            new_envelope(
                referral(n),
                service="intake",
                subject=consumed,
                stream_version=n,
                time=NOW,
                correlation_id=uuid.uuid4(),
                traceparent=f"00-{n:032x}-{n:016x}-01",
            )
            for n in (1, 2)
        ]
        async with store_pool.acquire() as conn:
            uow = UnitOfWork(conn, STORE, ManualClock(NOW))
            with provider.get_tracer("test").start_as_current_span("POST /v1/referrals") as span:
                current = tracing.traceparent_of()
                await uow.append(request, 0, [referral(1)])
                statement = uow.append_statement(by_statement, 0, [referral(2)])
                await conn.fetch(statement.sql, *statement.parameters)
            with tracing.consuming("pathway", causes):
                expected = [tracing.traceparent_for(c.id) for c in causes]
                await uow.append_many(
                    {consumed: 0},
                    [PendingEvent(consumed, referral(10 + i), c.correlationid, c.id) for i, c in enumerate(causes)],
                )
            streams = await STORE.read_streams(conn, [request, by_statement, consumed])
            tail = [e for e in await STORE.read_all(conn, START, 100_000) if e.stream_id == request]
    finally:
        tracing.disable()
        provider.shutdown()
    assert current is not None and current.split("-")[2] == format(span.get_span_context().span_id, "016x")
    assert [e.traceparent for e in streams[request]] == [current] and tail[0].traceparent == current
    assert [e.traceparent for e in streams[by_statement]] == [current]
    assert [e.traceparent for e in streams[consumed]] == expected
    assert [t.split("-")[1] for t in expected] == [f"{1:032x}", f"{2:032x}"]  # each in its own cause's trace
    assert streams[consumed][1].envelope().traceparent == expected[1]
    assert json.loads(streams[consumed][0].cloudevent_json())["traceparent"] == expected[0]


async def test_while_traces_are_off_events_carry_no_trace_context(store_pool: asyncpg.Pool):
    stream = str(uuid.uuid4())
    async with store_pool.acquire() as conn:
        await UnitOfWork(conn, STORE, ManualClock(NOW)).append(stream, 0, [referral(1)])
        [event] = await STORE.read_stream(conn, stream)
    assert event.traceparent is None and "traceparent" not in json.loads(event.cloudevent_json())
