"""Every event loop a service process makes runs on uvloop, also those made outside uvicorn."""

from __future__ import annotations

import asyncio
import threading

import pytest
import uvloop

from shared.service import use_uvloop_everywhere


@pytest.fixture
def restored_policy():
    policy = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(policy)


def test_a_loop_made_in_another_thread_is_uvloop(restored_policy):
    made: list[asyncio.AbstractEventLoop] = []

    def consumer_thread() -> None:  # as faust's consumer thread makes its loop (mode's ServiceThread)
        loop = asyncio.new_event_loop()
        made.append(loop)
        loop.close()

    use_uvloop_everywhere()
    thread = threading.Thread(target=consumer_thread)
    thread.start()
    thread.join()

    assert isinstance(made[0], uvloop.Loop)
