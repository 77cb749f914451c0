"""The one supervisor of a service's long-running loops: none dies or hangs without anyone knowing.

Every loop that runs for the life of a process (each relay, each consumer, the timer scheduler, the delivery
dispatcher, a projection runner) runs here. A loop is a coroutine function taking its `LoopHandle`; it reports
what it sees through the handle:

- `handle.progressed()` after it did a piece of its work (a batch published, a batch handled, a poll done);
- `handle.busy()` when it knows there is work it has not done yet, `handle.idle()` when there is none.

When the loop raises, whatever the class, the supervisor logs it (a dependency that is away — the database,
the broker — at warning; anything else at error with its traceback), counts it, runs the loop's `reset` (fresh
connections, fresh clients) and starts the loop again after a backoff with jitter. A loop that returns while
the service is not stopping is restarted the same way: a loop only ends with its service.

What the handles report is what health tells (`/ready`, `/health`):
- a loop is *ready* once it has started and not failed since its last piece of work;
- a loop is *stalled* when it had work and made no progress for `stall_seconds`, while no dependency was
  reported away in that time (a database outage is not a stall: readiness says it, and the process should
  not be restarted for it). A stalled loop makes `/health` fail, so an orchestrator restarts the process.

Why a stall and not only a crash: the load test behind this module (issue 23) found relays that stopped with
nothing in the log. asyncpg raises `InternalClientError` ("cannot switch to state 12; another operation is in
progress") when the server ended a connection in the middle of a transaction; it is no `PostgresError` and no
`InterfaceError`, so the relay's `except` let it through, the task ended, and nobody awaited it until shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from shared.db import database_unavailable
from shared.logging import get_logger

log = get_logger(__name__)

LOOP_RESTARTS = Counter(
    "ruggengraat_loop_restarts_total",
    "Times a supervised loop failed and was started again, by loop and by cause (dependency or unexpected)",
    ["loop", "cause"],
)
LOOP_UP = Gauge(
    "ruggengraat_loop_up", "1 while a supervised loop runs without a failure since its last progress", ["loop"]
)
LOOP_STALLED = Gauge("ruggengraat_loop_stalled", "1 while a supervised loop has work and makes no progress", ["loop"])
LOOP_LAST_PROGRESS = Gauge(
    "ruggengraat_loop_last_progress_timestamp_seconds", "When a supervised loop last did a piece of work", ["loop"]
)

INITIAL_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 10.0

Monotonic = Callable[[], float]


@dataclass
class LoopHandle:
    """What one loop reports, and what health reads. Times are monotonic seconds."""

    name: str
    now: Monotonic = time.monotonic
    started: bool = False
    failing: bool = False  # failed since its last piece of work
    has_work: bool = False
    last_progress: float = field(default=0.0)
    last_dependency_error: float = float("-inf")
    restarts: int = 0
    last_error: str | None = None

    def __post_init__(self) -> None:
        self.last_progress = self.now()

    def progressed(self) -> None:
        self.last_progress = self.now()
        self.failing = False
        LOOP_UP.labels(self.name).set(1)
        LOOP_LAST_PROGRESS.labels(self.name).set(time.time())

    def busy(self) -> None:
        if not self.has_work:
            # The stall clock starts when work is first seen, not at the last piece of work long ago.
            self.last_progress = max(self.last_progress, self.now())
        self.has_work = True

    def idle(self) -> None:
        self.has_work = False
        self.progressed()

    def dependency_unavailable(self) -> None:
        self.last_dependency_error = self.now()

    @property
    def ready(self) -> bool:
        return self.started and not self.failing

    def stalled(self, stall_seconds: float) -> bool:
        if not self.has_work:
            return False
        waited_since = max(self.last_progress, self.last_dependency_error)
        stalled = self.now() - waited_since > stall_seconds
        LOOP_STALLED.labels(self.name).set(1 if stalled else 0)
        return stalled

    def describe(self, stall_seconds: float) -> dict[str, object]:
        return {
            "ready": self.ready,
            "stalled": self.stalled(stall_seconds),
            "has_work": self.has_work,
            "seconds_since_progress": round(self.now() - self.last_progress, 1),
            "restarts": self.restarts,
            "last_error": self.last_error,
        }


LoopBody = Callable[[LoopHandle], Awaitable[None]]
Reset = Callable[[], Awaitable[None]]


class Supervisor:
    """Runs the loops of one service process and answers for their health."""

    def __init__(
        self,
        stop: asyncio.Event,
        *,
        stall_seconds: float = 60.0,
        max_backoff_seconds: float = MAX_BACKOFF_SECONDS,
        now: Monotonic = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.stop = stop
        self.stall_seconds = stall_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.now = now
        self.rng = rng or random.Random()
        self.handles: dict[str, LoopHandle] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, body: LoopBody, *, reset: Reset | None = None) -> asyncio.Task[None]:
        """Run `body` until the service stops, starting it again whenever it fails or ends."""
        handle = self._register(LoopHandle(name, self.now))
        task = asyncio.create_task(self._supervise(handle, body, reset), name=f"loop:{name}")
        self.tasks[name] = task
        return task

    def track(self, name: str) -> LoopHandle:
        """A handle for a loop that another framework runs (faust runs the consumer's agent): it reports
        through the handle like the others, and health reads it the same way."""
        return self._register(LoopHandle(name, self.now, started=True))

    def _register(self, handle: LoopHandle) -> LoopHandle:
        if handle.name in self.handles:
            raise ValueError(f"a loop named {handle.name!r} runs already")
        self.handles[handle.name] = handle
        return handle

    async def _supervise(self, handle: LoopHandle, body: LoopBody, reset: Reset | None) -> None:
        backoff = INITIAL_BACKOFF_SECONDS
        while not self.stop.is_set():
            handle.started = True
            progress_before = handle.last_progress
            try:
                await body(handle)
                if self.stop.is_set():
                    return
                raise LoopEnded(f"the loop {handle.name} returned while its service runs")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 — any class: that is the point of a supervisor
                with contextlib.suppress(Exception):  # not even a broken log may end the supervision
                    record_failure(handle, error)
            if handle.last_progress > progress_before:
                backoff = INITIAL_BACKOFF_SECONDS  # it worked for a while before it failed: start over quickly
            if reset is not None:
                try:
                    await reset()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 — a failing reset must not end the supervision
                    log.error("loop.reset_failed", loop=handle.name, error=repr(error), exc_info=error)
            await self._sleep(backoff * (0.5 + self.rng.random()))
            backoff = min(backoff * 2, self.max_backoff_seconds)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
        except TimeoutError:
            pass

    # -- health ----------------------------------------------------------------------------------------

    def ready(self) -> dict[str, bool]:
        """Per loop: started and not failing since its last piece of work."""
        return {name: handle.ready for name, handle in self.handles.items()}

    def stalled(self) -> list[str]:
        """Loops that had work and made no progress for `stall_seconds`, or whose task ended."""
        stalled = [name for name, handle in self.handles.items() if handle.stalled(self.stall_seconds)]
        ended = [name for name, task in self.tasks.items() if task.done() and not self.stop.is_set()]
        return sorted(set(stalled + ended))

    def describe(self) -> dict[str, dict[str, object]]:
        return {name: handle.describe(self.stall_seconds) for name, handle in self.handles.items()}

    async def wait_stopped(self) -> None:
        """Cancel every loop and wait for them (the service is stopping)."""
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


def is_dependency_unavailable(error: BaseException) -> bool:
    """The database or the broker is away: expected in an outage, logged at warning, not a stall."""
    from aiokafka.errors import KafkaError as AIOKafkaError
    from kafka.errors import KafkaError

    return database_unavailable(error) or isinstance(error, KafkaError | AIOKafkaError)


class LoopEnded(RuntimeError):
    """A supervised loop returned although its service was not stopping."""


def record_failure(handle: LoopHandle, error: BaseException, **context: str) -> None:
    """Log and count one failure of a loop, and mark it failing until its next piece of work."""
    handle.failing = True
    handle.restarts += 1
    handle.last_error = repr(error)[:500]
    LOOP_UP.labels(handle.name).set(0)
    if is_dependency_unavailable(error):
        handle.dependency_unavailable()
        LOOP_RESTARTS.labels(handle.name, "dependency").inc()
        log.warning("loop.dependency_unavailable", loop=handle.name, error=repr(error), **context)
    else:
        LOOP_RESTARTS.labels(handle.name, "unexpected").inc()
        log.error("loop.failed", loop=handle.name, error=repr(error), exc_info=error, **context)


async def retry_until_done(handle: LoopHandle, attempt: Callable[[], Awaitable[object]]) -> None:
    """Run `attempt` again after each failure (logged and counted against `handle`, with the supervisor's
    backoff) until it succeeds: for work that must not be given up, such as a consumed batch that is
    acknowledged only after it was handled."""
    backoff = INITIAL_BACKOFF_SECONDS
    while True:
        try:
            await attempt()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 — any class
            record_failure(handle, error)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


async def guarded(handle: LoopHandle, work: Awaitable[None], **context: str) -> None:
    """Await a short-lived task of a supervised loop (e.g. a delivery lane) so that its failure is logged and
    counted against the loop, never left as "Task exception was never retrieved"; the loop that starts it
    starts it again when it is due."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 — any class
        record_failure(handle, error, **context)
