"""Retry-After end to end (issue 23): the dispatcher asks an endpoint again when it said, breaker or not."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import pairwise

import pytest

from services.notifications.delivery_loop.dispatcher import Dispatcher
from services.notifications.domain.filters import Party
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore
from shared.events.intake import ReferralReceived, sample_referral
from tests.conftest import eventually
from tests.integration.notifications.conftest import Feed, fast_settings, subscribe

pytestmark = pytest.mark.integration

REFERRAL = ReferralReceived.event_type
PRACTICE = "04111111"


@contextlib.asynccontextmanager
async def dispatching(pool, clock, settings: NotificationsSettings) -> AsyncIterator[Dispatcher]:
    stop = asyncio.Event()
    dispatcher = Dispatcher(NotificationsStore(pool), clock, settings, owner="test")
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield dispatcher
    finally:
        stop.set()
        await task


async def attempts(pool, subscription_id) -> list[tuple]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT a.attempted_at, a.status_code FROM delivery_attempts a JOIN deliveries d USING (delivery_id)"
            " WHERE d.subscription_id = $1 ORDER BY a.id",
            subscription_id,
        )
    return [(r["attempted_at"], r["status_code"]) for r in rows]


async def test_retry_after_10_is_asked_again_10_s_later_though_the_breaker_opens_and_the_backoff_is_longer(
    pool, clock, receiver
):
    # Every failure opens the breaker (60 s) and the backoff is 24-36 s: before, the retry came after 60 s.
    settings = fast_settings(retry_base_seconds=30, breaker_failure_threshold=1, breaker_probe_seconds=60)
    sub = await subscribe(pool, "his", receiver.url("a"), [REFERRAL], Party.PRACTICE, PRACTICE)
    receiver.configure("a", secret=sub.secret, fail_next=2, fail_status=503, retry_after=10)
    feed = Feed(pool, clock, settings)

    async def made(n: int):
        return len(await attempts(pool, sub.subscription_id)) == n

    async def parked_until():
        async with pool.acquire() as conn:
            return await conn.fetchrow(
                "SELECT s.breaker_open_until, d.next_attempt_at FROM subscriptions s JOIN deliveries d"
                " USING (subscription_id) WHERE s.subscription_id = $1",
                sub.subscription_id,
            )

    async with dispatching(pool, clock, settings):
        await feed(feed.envelope(sample_referral(PRACTICE), "episode-1"))
        await eventually(lambda: made(1))
        assert tuple(await parked_until()) == (clock.now() + timedelta(seconds=10),) * 2
        clock.advance(timedelta(seconds=9))
        await asyncio.sleep(0.3)
        assert await made(1)  # not earlier than it asked
        clock.advance(timedelta(seconds=1))
        await eventually(lambda: made(2))  # the probe, answered 503 with Retry-After: 10 again
        assert tuple(await parked_until()) == (clock.now() + timedelta(seconds=10),) * 2
        clock.advance(timedelta(seconds=10))
        await eventually(lambda: made(3))
    made_at, codes = zip(*await attempts(pool, sub.subscription_id), strict=True)
    assert codes == (503, 503, 204)
    assert [b - a for a, b in pairwise(made_at)] == [timedelta(seconds=10)] * 2
