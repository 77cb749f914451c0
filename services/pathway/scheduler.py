"""The durable-timer scheduler: fires due evaluation timers into the episode's pathway stream.

One batch is one transaction: claim due timers with `FOR UPDATE SKIP LOCKED`, and for each, under the
episode's lock and in a savepoint, let `handlers.on_timer_due` mark it fired and append its event (and plan
the overdue check) before commit. A crash before commit leaves the timer
open, so it fires after restart; after commit it is fired and no scheduler claims it again. Event ids are
derived from the timer id, so even a second firing could not put a second event in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from prometheus_client import Counter, Gauge

from services.pathway.domain.evaluation_plan import Firing
from services.pathway.domain.evaluation_schedule import (
    EVALUATION_DUE,
    EVALUATION_OVERDUE,
    evaluation_correlation_id,
    is_due,
)
from services.pathway.handlers import on_timer_due
from services.pathway.settings import PathwaySettings
from services.pathway.store import PathwayStore, timers
from shared.clock import Clock
from shared.logging import correlation, get_logger
from shared.service import Runtime
from shared.store.event_store import ConcurrencyConflict, EventStore
from shared.supervisor import LoopBody, LoopHandle

log = get_logger(__name__)

TIMERS_FIRED = Counter("ruggengraat_timers_fired_total", "Durable timers fired (event appended), by kind", ["kind"])
SCHEDULER_LAG = Gauge(
    "ruggengraat_timer_scheduler_lag_seconds",
    "Clock time minus the due time of the oldest due timer not yet fired (0 when none is due)",
)

TIMERS_DUE = Gauge(
    "ruggengraat_timers_due", "Timers whose moment has come and that have not fired yet (read at a scrape)", ["kind"]
)
TIMERS_PLANNED = Gauge("ruggengraat_timers_planned", "Timers planned for later (read at a scrape)", ["kind"])


async def refresh_metrics(conn: asyncpg.Connection, now: datetime) -> None:
    """The timers due and planned per kind, by the service clock (`shared.service.Runtime.refresh_metrics`).
    Overdue evaluations are counted as they fire: ruggengraat_timers_fired_total{kind="evaluation_overdue"}."""
    waiting = await timers.waiting_by_kind(conn, now)
    for kind in (EVALUATION_DUE, EVALUATION_OVERDUE, *waiting):
        due, later = waiting.get(kind, (0, 0))
        TIMERS_DUE.labels(kind).set(due)
        TIMERS_PLANNED.labels(kind).set(later)


__all__ = ["SchedulerConfig", "TimerScheduler", "evaluation_correlation_id", "timer_scheduler"]


@dataclass(frozen=True)
class SchedulerConfig:
    poll_interval_seconds: float = 1.0
    batch_size: int = 100
    overdue_grace: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: PathwaySettings) -> SchedulerConfig:
        return cls(settings.timer_poll_interval_seconds, settings.timer_batch_size, settings.evaluation_overdue_grace)


@dataclass(frozen=True)
class BatchResult:
    claimed: int
    fired: int  # with an event appended
    spent: int  # closed without an event: the evaluation was recorded or the episode closed meanwhile
    deferred: int  # left for a later batch: the episode was busy or its stream moved under us


class TimerScheduler:
    def __init__(self, pool: asyncpg.Pool, store: EventStore, clock: Clock, config: SchedulerConfig) -> None:
        self.db = PathwayStore(pool, store)
        self.store = store
        self.clock = clock
        self.config = config

    async def run(self, stop: asyncio.Event, handle: LoopHandle | None = None) -> None:
        """Fire due timers until `stop` is set; the first batch runs at once, so timers due while down fire on
        start. Runs under the service's supervisor: a failed batch ends this call (nothing of it committed)
        and the supervisor starts it again after a backoff."""
        handle = handle or LoopHandle("timers")
        handle.busy()  # a poll is due every interval: one that does not come has hung
        while not stop.is_set():
            result = await self.run_once()
            handle.progressed()
            full = result.claimed >= self.config.batch_size and result.deferred < result.claimed
            if full:
                continue  # more may be due right now; do not wait a poll interval behind a backlog
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.poll_interval_seconds)

    async def run_once(self) -> BatchResult:
        """Claim one batch of due timers and fire each, all in one transaction."""
        now = self.clock.now()
        fired: list[tuple[timers.Timer, Firing]] = []
        spent = deferred = 0
        async with self.db.connection() as conn:
            async with conn.transaction():
                # An episode that waits for a stuck event (an open dead letter of the pathway's consumer) fires
                # nothing on its half-known state: its timers are not claimed until the stuck event is settled.
                claimed = await timers.claim_due(conn, now, self.config.batch_size, self.store.service)
                # One episode's timers in a row, and episodes in one order, so batches meet in one order.
                for timer in sorted(claimed, key=lambda t: (t.episode_id, t.due_at, t.kind)):
                    if not await timers.try_lock_episode(conn, timer.episode_id):
                        deferred += 1
                        continue
                    try:
                        async with conn.transaction():  # a savepoint: one failing timer spoils no other
                            firing = await on_timer_due(
                                conn, self.store, self.clock, timer, now, self.config.overdue_grace
                            )
                    except (ConcurrencyConflict, asyncpg.InFailedSQLTransactionError) as error:
                        # A consumer appended to the stream meanwhile (a lost race on the stream's key shows
                        # as a failed savepoint); the timer is still open and the next batch retries it.
                        log.warning("timers.fire_deferred", timer_id=str(timer.timer_id), error=repr(error))
                        deferred += 1
                        continue
                    except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
                        raise  # the database went away: the whole batch is lost, not this one timer
                    except Exception as error:  # noqa: BLE001 — one bad timer must not stop every other one
                        log.error("timers.fire_failed", timer_id=str(timer.timer_id), error=repr(error))
                        deferred += 1
                        continue
                    if firing is Firing.NOTHING:
                        spent += 1
                    else:
                        fired.append((timer, firing))
            oldest = await timers.oldest_unfired_due(conn)
        # Counted and logged after commit, so a rolled-back batch claims nothing happened.
        for timer, firing in fired:
            TIMERS_FIRED.labels(timer.kind).inc()
            with correlation(
                str(evaluation_correlation_id(timer.episode_id, timer.sequence)), episode_id=timer.episode_id
            ):
                log.info(
                    "timers.fired", raised=firing.value, timer_id=str(timer.timer_id), evaluation_number=timer.sequence
                )
        later = self.clock.now()
        SCHEDULER_LAG.set((later - oldest).total_seconds() if oldest and is_due(oldest, later) else 0.0)
        return BatchResult(len(claimed), len(fired), spent, deferred)


def timer_scheduler(runtime: Runtime) -> LoopBody:
    """The pathway's timer scheduler, a loop of the service's supervisor."""
    settings = runtime.settings
    if not isinstance(settings, PathwaySettings):
        raise TypeError("timer_scheduler needs the pathway's settings")
    scheduler = TimerScheduler(runtime.pool, runtime.store, runtime.clock, SchedulerConfig.from_settings(settings))
    return functools.partial(scheduler.run, runtime.stop)
