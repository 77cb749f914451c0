"""The dispatcher in-process against a real receiver process, with the service clock under the test's hand."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from services.notifications import metrics
from services.notifications.delivery_loop.dispatcher import Dispatcher
from services.notifications.delivery_loop.sender import USER_AGENT
from services.notifications.domain.filters import Party
from services.notifications.domain.messages import ContentMode
from services.notifications.domain.outcome import DeliveryStatus
from services.notifications.handlers import release_overdue
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore, deliveries, lanes
from shared.events.intake import PatientDataErased, ReferralReceived, sample_referral
from shared.events.pathway import EvaluationScheduled
from tests.conftest import eventually
from tests.integration.notifications.conftest import Feed, evaluation, fast_settings, subscribe

pytestmark = pytest.mark.integration

REFERRAL = ReferralReceived.event_type
PRACTICE = "04111111"


@contextlib.asynccontextmanager
async def dispatching(pool, clock, settings: NotificationsSettings, owner: str = "test") -> AsyncIterator[Dispatcher]:
    stop = asyncio.Event()
    dispatcher = Dispatcher(NotificationsStore(pool), clock, settings, owner=owner)
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield dispatcher
    finally:
        stop.set()
        await task


async def attempt_log(pool, subscription_id) -> list[tuple[int | None, int | None]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT d.sequence, a.status_code FROM delivery_attempts a JOIN deliveries d USING (delivery_id)"
            " WHERE d.subscription_id = $1 ORDER BY a.id",
            subscription_id,
        )
    return [(r["sequence"], r["status_code"]) for r in rows]


async def received(receiver, name: str, count: int) -> list[dict]:
    async def probe():
        got = await asyncio.to_thread(receiver.received, name)
        return got["events"] if len(got["events"]) >= count else None

    return await eventually(probe, timeout=20)


async def test_a_failed_delivery_is_retried_when_the_service_clock_says_so_and_arrives_once(pool, clock, receiver):
    settings = fast_settings(retry_base_seconds=10)
    sub = await subscribe(pool, "his", receiver.url("a"), [REFERRAL], Party.PRACTICE, PRACTICE)
    receiver.configure("a", secret=sub.secret, fail_next=3)
    feed = Feed(pool, clock, settings)
    async with dispatching(pool, clock, settings):
        await feed(feed.envelope(sample_referral(PRACTICE), "episode-1"))

        async def attempts_are(n: int):
            return len(await attempt_log(pool, sub.subscription_id)) == n

        await eventually(lambda: attempts_are(1))
        await asyncio.sleep(0.5)
        assert await attempts_are(1)  # real time passes, the service clock does not: no retry yet
        for delay in (12, 24, 48):  # the base delay doubles; jitter stays within ±20 %
            clock.advance(timedelta(seconds=delay))
            await eventually(lambda n=2 + (delay > 12) + (delay > 24): attempts_are(n))
        events = await received(receiver, "a", 1)
    assert [(e["type"], e["sequence"]) for e in events] == [(REFERRAL, 1)]
    assert await attempt_log(pool, sub.subscription_id) == [(1, 500), (1, 500), (1, 500), (1, 204)]
    assert receiver.received("a")["attempts"] == 4
    assert {a["request"]["headers"]["user-agent"] for a in receiver.attempts("a")} == {USER_AGENT}
    assert USER_AGENT.startswith("Ruggengraat/0.")


async def test_retry_after_from_the_receiver_decides_when_the_next_attempt_is(pool, clock, receiver):
    settings = fast_settings(retry_base_seconds=1)
    sub = await subscribe(pool, "his", receiver.url("a"), [REFERRAL], Party.PRACTICE, PRACTICE)
    receiver.configure("a", secret=sub.secret, fail_next=1, fail_status=503, retry_after=120)
    feed = Feed(pool, clock, settings)
    async with dispatching(pool, clock, settings):
        await feed(feed.envelope(sample_referral(PRACTICE), "episode-1"))
        await eventually(lambda: _attempts(pool, sub.subscription_id, 1))
        async with pool.acquire() as conn:
            [row] = await deliveries.list_for(conn, sub.subscription_id, status=None, after_sequence=None, limit=10)
        assert row["next_attempt_at"] == clock.now() + timedelta(seconds=120)
        clock.advance(timedelta(seconds=119))
        await asyncio.sleep(0.3)
        assert await _attempts(pool, sub.subscription_id, 1)
        clock.advance(timedelta(seconds=1))
        await received(receiver, "a", 1)


async def _attempts(pool, subscription_id, n: int) -> bool:
    return len(await attempt_log(pool, subscription_id)) == n


async def test_after_the_last_attempt_the_delivery_is_dead_lettered_and_a_redrive_delivers_it(pool, clock, receiver):
    settings = fast_settings(retry_base_seconds=1, retry_max_attempts=2)
    sub = await subscribe(pool, "his", receiver.url("a"), [REFERRAL], Party.PRACTICE, PRACTICE)
    receiver.configure("a", secret=sub.secret, fail_next=2)
    feed = Feed(pool, clock, settings)
    async with dispatching(pool, clock, settings):
        await feed(feed.envelope(sample_referral(PRACTICE), "episode-1"))
        await eventually(lambda: _attempts(pool, sub.subscription_id, 1))
        clock.advance(timedelta(seconds=2))
        await eventually(lambda: _attempts(pool, sub.subscription_id, 2))
        await feed(feed.envelope(sample_referral(PRACTICE), "episode-2"))
        first = await received(receiver, "a", 1)
        assert [(e["subject"], e["sequence"]) for e in first] == [("episode-2", 2)]  # the gap at 1 is visible

        async with pool.acquire() as conn:
            dead = await deliveries.list_for(
                conn, sub.subscription_id, status=DeliveryStatus.DEAD, after_sequence=None, limit=10
            )
            assert [(d["subject"], d["sequence"], d["attempts"]) for d in dead] == [("episode-1", 1, 2)]
            assert await deliveries.requeue(conn, sub.subscription_id, clock.now(), dead_only=True) == [1]
        both = await received(receiver, "a", 2)
    assert [(e["subject"], e["sequence"]) for e in both] == [("episode-2", 2), ("episode-1", 1)]


async def test_a_slow_subscriber_never_delays_the_others_and_its_breaker_parks_it(pool, clock, receiver):
    settings = fast_settings(
        delivery_timeout_seconds=0.5, retry_base_seconds=1, breaker_failure_threshold=2, breaker_probe_seconds=30
    )
    slow = await subscribe(pool, "slow", receiver.url("slow"), [REFERRAL], Party.PRACTICE, PRACTICE)
    fast = await subscribe(pool, "fast", receiver.url("fast"), [REFERRAL], Party.PRACTICE, PRACTICE)
    receiver.configure("slow", secret=slow.secret, delay_seconds=3)
    receiver.configure("fast", secret=fast.secret)
    feed = Feed(pool, clock, settings)
    attempts_before = {o: metrics.WEBHOOK_ATTEMPTS.labels(o)._value.get() for o in ("delivered", "retry", "dead")}
    async with dispatching(pool, clock, settings):
        for n in range(20):
            await feed(feed.envelope(sample_referral(PRACTICE), f"episode-{n}"))
        events = await received(receiver, "fast", 20)
        assert [e["sequence"] for e in events] == list(range(1, 21))
        assert len(await attempt_log(pool, slow.subscription_id)) <= 1  # still waiting for its first answer
        await eventually(lambda: _attempts(pool, slow.subscription_id, 1))  # timed out, waiting for its retry

        clock.advance(timedelta(seconds=2))
        await eventually(lambda: _attempts(pool, slow.subscription_id, 2))
        async with pool.acquire() as conn:
            parked = await conn.fetchval(
                "SELECT breaker_open_until FROM subscriptions WHERE subscription_id = $1", slow.subscription_id
            )
        assert parked is not None and parked >= clock.now() + timedelta(seconds=29)
        clock.advance(timedelta(seconds=10))  # well past the retry delay, but the endpoint is parked
        await asyncio.sleep(0.5)
        assert await _attempts(pool, slow.subscription_id, 2)
        # What an operator's dashboard and alerts read: the slow one's breaker open, its 20 deliveries
        # waiting, one of them after failed attempts, the oldest 12 s old (by the service clock); the fast
        # one has nothing waiting.
        async with pool.acquire() as conn:
            await metrics.refresh(conn, clock.now())
        slow_id, fast_id = str(slow.subscription_id), str(fast.subscription_id)
        assert metrics.BREAKER_OPEN.labels(slow_id)._value.get() == 1
        assert metrics.PENDING.labels(slow_id)._value.get() == 20
        assert metrics.RETRYING.labels(slow_id)._value.get() == 1
        assert metrics.OLDEST_UNDELIVERED.labels(slow_id)._value.get() >= 12
        assert (metrics.PENDING.labels(fast_id)._value.get(), metrics.BREAKER_OPEN.labels(fast_id)._value.get()) == (
            0,
            0,
        )

        receiver.configure("slow", secret=slow.secret)  # it recovers; the probe finds out
        clock.advance(timedelta(seconds=20))
        slow_events = await received(receiver, "slow", 20)
    assert [e["sequence"] for e in slow_events] == list(range(1, 21))
    assert [r[1] for r in await attempt_log(pool, slow.subscription_id)][:3] == [None, None, 204]
    async with pool.acquire() as conn:
        await metrics.refresh(conn, clock.now())
    assert metrics.PENDING.labels(slow_id)._value.get() == 0 and metrics.BREAKER_OPEN.labels(slow_id)._value.get() == 0
    assert metrics.OLDEST_UNDELIVERED.labels(slow_id)._value.get() == 0
    attempts = {o: metrics.WEBHOOK_ATTEMPTS.labels(o)._value.get() - attempts_before[o] for o in attempts_before}
    assert attempts == {"delivered": 40, "retry": 2, "dead": 0}  # the slow one's two timeouts, then all 40


async def test_two_dispatchers_never_send_one_subscribers_deliveries_twice_or_out_of_order(pool, clock, receiver):
    settings = fast_settings()
    subs = [
        await subscribe(pool, f"his-{n}", receiver.url(f"s{n}"), [REFERRAL], Party.PRACTICE, PRACTICE, mode)
        for n, mode in enumerate([ContentMode.STRUCTURED, ContentMode.BINARY, ContentMode.STRUCTURED])
    ]
    for n, sub in enumerate(subs):
        receiver.configure(f"s{n}", secret=sub.secret)
    feed = Feed(pool, clock, settings)
    async with dispatching(pool, clock, settings, "one"), dispatching(pool, clock, settings, "two"):
        for n in range(30):
            await feed(feed.envelope(sample_referral(PRACTICE), f"episode-{n}"))
        for n in range(3):
            events = await received(receiver, f"s{n}", 30)
            assert [e["sequence"] for e in events] == list(range(1, 31))
            assert [e["subject"] for e in events] == [f"episode-{k}" for k in range(30)]
            assert {e["mode"] for e in events} == {"binary" if n == 1 else "structured"}
            assert receiver.received(f"s{n}")["attempts"] == 30


async def test_a_lane_leased_by_a_process_that_is_gone_is_taken_at_once_and_one_leased_by_a_running_one_is_not(
    pool, other_pool, clock, receiver
):
    """A killed notifications process leaves its leases behind for `lane_lease_seconds`; its owner's lock went
    with its database session, so another process takes its lanes at once. A lease whose owner still runs
    (holds its lock) stays its own until it lapses."""
    settings = fast_settings(lane_lease_seconds=600.0)
    gone = await subscribe(pool, "his-gone", receiver.url("gone"), [REFERRAL], Party.PRACTICE, PRACTICE)
    held = await subscribe(pool, "his-held", receiver.url("held"), [REFERRAL], Party.PRACTICE, PRACTICE)
    receiver.configure("gone", secret=gone.secret)
    receiver.configure("held", secret=held.secret)
    async with other_pool.acquire() as running:
        await lanes.hold_owner_lock(running, "running-elsewhere")
        try:
            async with pool.acquire() as conn:
                for sub, owner in ((gone, "killed-elsewhere"), (held, "running-elsewhere")):
                    await conn.execute(
                        "UPDATE subscriptions SET lane_owner = $2,"
                        " lane_lease_until = clock_timestamp() + interval '10 minutes' WHERE subscription_id = $1",
                        sub.subscription_id,
                        owner,
                    )
            feed = Feed(pool, clock, settings)
            async with dispatching(pool, clock, settings, "here"):
                for n in range(3):
                    await feed(feed.envelope(sample_referral(PRACTICE), f"episode-{n}"))
                events = await received(receiver, "gone", 3)
                assert [e["sequence"] for e in events] == [1, 2, 3]
                await asyncio.sleep(1.0)  # several looks for due lanes
                assert (await asyncio.to_thread(receiver.received, "held"))["attempts"] == 0
        finally:
            await lanes.release_owner_lock(running, "running-elsewhere")


async def test_an_event_sent_on_without_its_cause_never_stops_the_lane_when_the_cause_comes_after_all(
    pool, clock, receiver
):
    # The webhook-down stall of the fault campaign: an event whose cause was late went out when its hold
    # expired; the cause came after it while the endpoint was down, so both waited in the lane, the effect
    # first in its episode and waiting for its cause behind it. The lane planned nothing, for good.
    settings = fast_settings(causal_hold_seconds=60)
    kinds = [REFERRAL, PatientDataErased.event_type, EvaluationScheduled.event_type]
    sub = await subscribe(pool, "his", receiver.url("a"), kinds, Party.PRACTICE, PRACTICE)
    receiver.configure("a", secret=sub.secret)
    feed = Feed(pool, clock, settings)
    referral = feed.envelope(sample_referral(PRACTICE), "episode-1")
    late = feed.envelope(PatientDataErased(patient_id=uuid.uuid4(), erased_at=clock.now()), "episode-1", version=2)
    effect = feed.envelope(evaluation(2), "episode-1", version=2, cause=late)
    await feed(referral)
    await feed(effect)  # held for its cause,
    clock.advance(timedelta(seconds=60))
    assert await release_overdue(NotificationsStore(pool), clock.now()) == 1  # and sent on without it;
    await feed(late)  # then the cause comes after all, before anything could be sent

    async with dispatching(pool, clock, settings):
        events = await received(receiver, "a", 3)
    assert [(e["type"], e["sequence"]) for e in events] == [
        (REFERRAL, 1),
        (PatientDataErased.event_type, 2),
        (EvaluationScheduled.event_type, 3),
    ]
