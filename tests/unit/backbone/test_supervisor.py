"""The supervisor of a service's loops: no loop dies or hangs without anyone knowing, and health tells the truth."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import structlog
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kafka.errors import KafkaTimeoutError

from shared.consumer.dead_letters import Record
from shared.consumer.faust_worker import process_until_done
from shared.db import database_unavailable
from shared.http import install_problem_handlers
from shared.supervisor import (
    LOOP_RESTARTS,
    LoopHandle,
    Supervisor,
    guarded,
    is_dependency_unavailable,
    record_failure,
)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def restarts(loop: str, cause: str) -> float:
    return LOOP_RESTARTS.labels(loop, cause)._value.get()


def internal_client_error() -> Exception:
    return asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation (2) is in progress")


@pytest.mark.parametrize(
    "error",
    [
        internal_client_error(),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        FileNotFoundError(2, "No such file or directory"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_what_a_database_restart_raises_counts_as_the_database_being_away(error):
    assert database_unavailable(error)
    assert is_dependency_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [asyncpg.exceptions.UniqueViolationError("duplicate key"), ValueError("a bug"), KeyError("x")],
    ids=lambda e: type(e).__name__,
)
def test_a_bug_or_a_constraint_is_not_the_database_being_away(error):
    assert not database_unavailable(error)
    assert not is_dependency_unavailable(error)


def test_a_broker_that_is_away_is_a_dependency_but_not_the_database():
    for error in (KafkaTimeoutError(), KafkaConnectionError()):
        assert is_dependency_unavailable(error)
        assert not database_unavailable(error)


async def test_a_loop_that_raises_an_unexpected_class_is_logged_with_its_traceback_counted_reset_and_started_again(
    caplog,
):
    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    runs, resets = [], []

    async def body(handle: LoopHandle) -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise internal_client_error()
        handle.progressed()
        await stop.wait()

    async def reset() -> None:
        resets.append(True)

    before = restarts("relay-a", "dependency") + restarts("relay-a", "unexpected")
    supervisor.start("relay-a", body, reset=reset)
    for _ in range(200):
        if len(runs) >= 2:
            break
        await asyncio.sleep(0.01)
    assert runs == [0, 1]
    assert resets == [True]
    assert restarts("relay-a", "dependency") + restarts("relay-a", "unexpected") == before + 1
    assert supervisor.handles["relay-a"].restarts == 1
    assert "InternalClientError" in (supervisor.handles["relay-a"].last_error or "")
    assert supervisor.ready() == {"relay-a": True}  # it did a piece of work since
    stop.set()
    await supervisor.wait_stopped()


async def test_an_unexpected_error_is_logged_at_error_with_its_traceback():
    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    runs = []

    async def body(handle: LoopHandle) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise ZeroDivisionError("division by zero")
        await stop.wait()

    before = restarts("bug-loop", "unexpected")
    with structlog.testing.capture_logs() as logged:
        supervisor.start("bug-loop", body)
        for _ in range(200):
            if len(runs) >= 2:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await supervisor.wait_stopped()
    failed = [entry for entry in logged if entry["event"] == "loop.failed"]
    assert len(failed) == 1
    assert failed[0]["log_level"] == "error"
    assert isinstance(failed[0]["exc_info"], ZeroDivisionError)  # rendered as a traceback by format_exc_info
    assert restarts("bug-loop", "unexpected") == before + 1


async def test_a_loop_that_returns_while_its_service_runs_is_started_again():
    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    runs = []

    async def body(handle: LoopHandle) -> None:
        runs.append(1)
        if len(runs) >= 3:
            await stop.wait()

    supervisor.start("returns", body)
    for _ in range(300):
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.01)
    assert len(runs) == 3
    assert "LoopEnded" in (supervisor.handles["returns"].last_error or "")
    stop.set()
    await supervisor.wait_stopped()


async def test_a_loop_is_not_ready_while_it_keeps_failing():
    stop = asyncio.Event()
    supervisor = Supervisor(stop, max_backoff_seconds=0.05)
    failures = []

    async def body(handle: LoopHandle) -> None:
        failures.append(1)
        raise OSError("Connection refused")

    supervisor.start("down", body)
    for _ in range(300):
        if len(failures) >= 3:
            break
        await asyncio.sleep(0.01)
    assert supervisor.ready() == {"down": False}
    assert supervisor.stalled() == []  # away dependency: not a stall
    stop.set()
    await supervisor.wait_stopped()


def test_a_loop_with_work_and_no_progress_for_the_stall_time_is_stalled():
    clock = FakeClock()
    handle = LoopHandle("relay", clock, started=True)
    handle.busy()
    clock.t += 59
    assert not handle.stalled(60)
    clock.t += 2
    assert handle.stalled(60)
    handle.progressed()
    assert not handle.stalled(60)


def test_a_loop_waiting_on_an_away_database_is_not_stalled_until_the_database_is_back_for_the_stall_time():
    clock = FakeClock()
    handle = LoopHandle("relay", clock, started=True)
    handle.busy()
    for _ in range(10):  # ten minutes of outage, an error every minute
        clock.t += 60
        handle.dependency_unavailable()
        assert not handle.stalled(60)
    clock.t += 61  # the database answers again, and still nothing moves: a hang
    assert handle.stalled(60)


def test_an_idle_loop_is_never_stalled_and_the_stall_clock_starts_when_work_is_first_seen():
    clock = FakeClock()
    handle = LoopHandle("consumer", clock, started=True)
    handle.idle()
    clock.t += 3600
    assert not handle.stalled(60)
    handle.busy()  # a batch arrives after an hour of quiet
    clock.t += 30
    assert not handle.stalled(60)
    clock.t += 31
    assert handle.stalled(60)


async def test_a_loop_whose_task_ended_shows_as_stalled():
    stop = asyncio.Event()
    supervisor = Supervisor(stop)

    async def body(handle: LoopHandle) -> None:
        await stop.wait()

    task = supervisor.start("cancelled", body)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert supervisor.stalled() == ["cancelled"]


async def test_a_failing_lane_is_logged_and_counted_against_its_loop_not_left_unretrieved():
    handle = LoopHandle("dispatcher", started=True)

    async def lane() -> None:
        raise internal_client_error()

    before = restarts("dispatcher", "dependency")
    task = asyncio.create_task(guarded(handle, lane(), subscription_id="s-1"))
    await task
    assert task.exception() is None
    assert restarts("dispatcher", "dependency") == before + 1
    assert not handle.ready


async def test_a_consumer_batch_is_tried_again_until_it_is_done_instead_of_crashing_the_agent():
    class FlakyConsumer:
        handle = LoopHandle("consumer:test", started=True)
        calls = 0

        async def process_batch(self, records):
            self.calls += 1
            if self.calls < 3:
                raise asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")
            return ["handled"] * len(records)

    consumer = FlakyConsumer()
    await process_until_done(consumer, [Record("t", 0, 0, b"k", b"{}")])  # type: ignore[arg-type]
    assert consumer.calls == 3
    assert consumer.handle.ready and not consumer.handle.has_work


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(2, "No such file or directory"),
        internal_client_error(),
        asyncpg.exceptions.AdminShutdownError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_request_while_the_database_is_away_gets_a_503_problem_with_retry_after(error):
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/thing")
    async def thing() -> None:
        raise error

    response = TestClient(app, raise_server_exceptions=False).get("/thing")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["status"] == 503


def test_a_bug_in_a_route_is_still_a_500():
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/thing")
    async def thing() -> None:
        raise ZeroDivisionError

    response = TestClient(app, raise_server_exceptions=False).get("/thing")
    assert response.status_code == 500


async def test_health_and_ready_answer_503_for_a_stalled_loop_and_a_failing_loop(monkeypatch):
    from shared.http import operations_router
    from shared.service import Runtime
    from shared.settings import ServiceSettings

    clock = FakeClock()
    runtime = Runtime(ServiceSettings(loop_stall_seconds=60), None, None, None)  # type: ignore[arg-type]
    runtime.supervisor.now = clock
    handle = runtime.supervisor.track("relay")
    handle.now = clock
    handle.busy()

    async def all_answer(self) -> dict[str, bool]:
        return {"postgres": True, "broker": True} | {f"loop:{n}": r for n, r in self.supervisor.ready().items()}

    app = FastAPI()
    app.state.runtime = runtime
    app.include_router(operations_router())
    client = TestClient(app)
    monkeypatch.setattr(Runtime, "readiness", all_answer)  # the database and broker checks are I/O
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200
    clock.t += 61
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["stalled"] == ["relay"]
    handle.progressed()
    assert client.get("/health").status_code == 200
    record_failure(handle, internal_client_error())
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["loop:relay"] is False
