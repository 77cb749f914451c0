"""faust's consumer delivers a fetched record without a task when the delivery need not wait, and exactly as
mode's `wait_first` when it must (a rebalance that stops the flow abandons it)."""

from __future__ import annotations

import asyncio
import inspect
import warnings

import pytest

from shared.consumer.faust_transport import Consumer, Transport, run_until_it_waits
from shared.consumer.faust_worker import create_faust_app
from shared.settings import ServiceSettings


@pytest.fixture
async def consumer():
    """Made inside the running loop, which it takes as its own; not started: nothing connects."""
    app = create_faust_app(ServiceSettings(service_name="eager", kafka_bootstrap_servers="127.0.0.1:9"))
    return app.consumer


def test_the_faust_app_uses_the_eager_transport_and_consumer(consumer):
    assert isinstance(consumer.app.transport, Transport)
    assert type(consumer) is Consumer


async def test_a_coroutine_that_never_waits_finishes_on_the_spot():
    steps = []

    async def deliver():
        steps.append("delivered")
        return 7

    assert run_until_it_waits(deliver()) == (True, 7)
    assert steps == ["delivered"]


async def test_a_coroutine_that_waits_goes_on_where_it_stopped_and_gets_what_it_awaited():
    room = asyncio.get_running_loop().create_future()
    steps = []

    async def deliver():
        steps.append("started")
        got = await room
        steps.append(f"got {got}")
        return "done"

    finished, rest = run_until_it_waits(deliver())
    assert not finished and steps == ["started"]
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    room.set_result("room")
    assert await task == "done"
    assert steps == ["started", "got room"]  # not started twice


async def test_cancelling_the_rest_cancels_the_coroutine_inside():
    never = asyncio.get_running_loop().create_future()
    steps = []

    async def deliver():
        try:
            await never
        except asyncio.CancelledError:
            steps.append("cancelled inside")
            raise

    _, rest = run_until_it_waits(deliver())
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["cancelled inside"]


async def test_an_error_of_what_it_awaited_reaches_the_coroutine():
    failing = asyncio.get_running_loop().create_future()

    async def deliver():
        try:
            await failing
        except KeyError:
            return "handled"

    _, rest = run_until_it_waits(deliver())
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    failing.set_exception(KeyError("x"))
    assert await task == "handled"


async def test_a_delivery_with_room_is_the_first_to_finish_and_the_flow_wait_is_closed(consumer):
    delivered = []

    async def deliver():
        delivered.append("record")
        return "ok"

    flow_stopped = consumer.suspend_flow.wait()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would fail the test
        result = await consumer.wait_first(deliver(), flow_stopped)
    assert delivered == ["record"]
    assert result.results == ["ok"] and not result.stopped
    assert inspect.getcoroutinestate(flow_stopped) == inspect.CORO_CLOSED


async def test_a_delivery_that_waits_still_finishes_when_room_comes(consumer):
    room = asyncio.Event()
    delivered = []

    async def deliver():
        await room.wait()
        delivered.append("record")
        return "ok"

    waiting = asyncio.ensure_future(consumer.wait_first(deliver(), consumer.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    room.set()
    result = await asyncio.wait_for(waiting, 1)
    assert delivered == ["record"] and result.results == ["ok"]


async def test_a_rebalance_abandons_a_delivery_that_waits_as_faust_intends(consumer):
    abandoned = []

    async def deliver():
        try:
            await asyncio.Event().wait()  # no room in the stream, ever
        except asyncio.CancelledError:
            abandoned.append("record")
            raise

    waiting = asyncio.ensure_future(consumer.wait_first(deliver(), consumer.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    consumer.stop_flow()  # what faust does when partitions are revoked
    result = await asyncio.wait_for(waiting, 1)
    await asyncio.sleep(0)
    assert result.results == [True]  # the flow's wait won
    assert abandoned == ["record"]


async def test_a_stopped_consumer_leaves_everything_to_mode(consumer):
    delivered = []

    async def deliver():
        delivered.append("record")

    consumer._stopped.set()
    result = await consumer.wait_first(deliver(), consumer.suspend_flow.wait())
    assert result.stopped  # mode's answer for a stopped service
