"""The durable evaluation timers on real PostgreSQL: claim, fire once, overdue, record, close, two schedulers."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import REGISTRY as METRICS

from services.pathway.domain.episode_view import ViewRow
from services.pathway.domain.evaluation_plan import EvaluationPlan, PlanDecision, ScheduleTimer, StopAllTimers
from services.pathway.domain.evaluation_schedule import (
    EVALUATION_DUE,
    EVALUATION_OVERDUE,
    RecordEvaluation,
    StopEvaluations,
)
from services.pathway.projection import EpisodeView
from services.pathway.scheduler import (
    TIMERS_DUE,
    TIMERS_PLANNED,
    SchedulerConfig,
    TimerScheduler,
    evaluation_correlation_id,
    refresh_metrics,
)
from services.pathway.store import episodes, timers
from shared.clock import ManualClock
from shared.consumer.dead_letters import DeadLetter, DeadLetterReason, Record, record_dead_letter
from shared.db import create_pool
from shared.events import REGISTRY
from shared.events.intake import EpisodeClosed, sample_referral
from shared.events.pathway import EvaluationDue, EvaluationOverdue, EvaluationScheduled
from shared.events.payload import EventPayload
from shared.store.event_store import EventStore
from shared.store.migrate import migrate, migrations_in
from shared.store.projection import ProjectionRunner
from shared.store.unit_of_work import UnitOfWork
from tests.conftest import eventually
from tests.unit.pathway_timers.test_evaluation_plan_changes import completed

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DUE = START + timedelta(days=21)
GRACE = timedelta(days=7)
THREE_WEEKS = timedelta(days=21)
STORE = EventStore("pathway", REGISTRY)
DUE_TYPE = EvaluationDue.event_type
OVERDUE_TYPE = EvaluationOverdue.event_type
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "pathway" / "migrations"


@pytest.fixture
async def pool(store_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """The test's random schema with the pathway's own tables beside the event store."""
    async with store_pool.acquire() as conn:
        schema = await conn.fetchval("SELECT current_schema()")
        await migrate(conn, schema, migrations_in("services.pathway"))
    yield store_pool


def scheduler(pool: asyncpg.Pool, clock: ManualClock, batch_size: int = 50) -> TimerScheduler:
    return TimerScheduler(pool, STORE, clock, SchedulerConfig(0.01, batch_size, GRACE))


def new_episode() -> str:
    return str(uuid.uuid4())


async def plan(pool: asyncpg.Pool, episode: str, number: int = 1, due_at: datetime = DUE) -> uuid.UUID:
    """What the referral handler does: a timer and its EvaluationScheduled, in one transaction."""
    timer_id = timers.timer_id_for(episode, EVALUATION_DUE, number)
    async with pool.acquire() as conn, conn.transaction():
        await timers.write_plans(conn, [(episode, ScheduleTimer(EVALUATION_DUE, number, due_at))])
        await append(conn, episode, [EvaluationScheduled(timer_id=timer_id, evaluation_number=number, due_at=due_at)])
    return timer_id


async def append(conn: asyncpg.Connection, episode: str, payloads: list[EventPayload]) -> None:
    if payloads:
        version = await STORE.stream_version(conn, episode)
        await UnitOfWork(conn, STORE, ManualClock(START)).append(episode, version, payloads)


async def folded(conn: asyncpg.Connection, episode: str) -> EvaluationPlan:
    """The episode's plan as its events tell it (its own, and whether intake closed it)."""
    plan_ = EvaluationPlan.of(episode, [e.payload(REGISTRY) for e in await STORE.read_stream(conn, episode)])
    plan_.closed = await episodes.is_closed(conn, episode)
    return plan_


async def write(conn: asyncpg.Connection, episode: str, decision: PlanDecision, facts: list[EventPayload]) -> None:
    await timers.write_plans(conn, [(episode, w) for w in decision.writes])
    await append(conn, episode, [*facts, *decision.announced])


async def record(pool: asyncpg.Pool, episode: str, number: int, at: datetime) -> PlanDecision:
    """What the intake handler does with a recorded evaluation, in one transaction: the plan folded from the
    episode's events decides, its timers are written, and the EvaluationCompleted (the first time, as the
    guideline's reaction is) and what the plan announced are appended."""
    async with pool.acquire() as conn, conn.transaction():
        plan_ = await folded(conn, episode)
        first_time = number not in plan_.completed
        decision = plan_.decide(RecordEvaluation(number, at), THREE_WEEKS)
        await write(conn, episode, decision, [completed(number)] if first_time else [])
    return decision


async def intake_closes(pool: asyncpg.Pool, episode: str, at: datetime, *, stop_timers: bool = True) -> None:
    """Intake's EpisodeClosed reaches the pathway, in one transaction: its copy is kept and (`stop_timers`) the
    plan as it stood before it decides."""
    closing = EpisodeClosed(closed_on=at.date(), reason="goals_met")
    async with pool.acquire() as conn, conn.transaction():
        plan_ = await folded(conn, episode)
        await conn.execute(
            "INSERT INTO intake_events (episode_id, stream_version, event_id, event_type, data_version, occurred_at,"
            " data) VALUES ($1, 99, $2, $3, 1, $4, $5::jsonb)",
            episode,
            uuid.uuid4(),
            EpisodeClosed.event_type,
            at,
            closing.model_dump_json(),
        )
        if stop_timers:
            await write(conn, episode, plan_.decide(StopEvaluations(at), THREE_WEEKS), [])


async def events(pool: asyncpg.Pool, event_type: str, episode: str | None = None) -> list[dict]:
    rows = await pool.fetch(
        "SELECT stream_id, stream_version, event_id, correlation_id, causation_id, guideline_version, data::text"
        " FROM events WHERE event_type = $1 AND ($2::text IS NULL OR stream_id = $2) ORDER BY position",
        event_type,
        episode,
    )
    return [{**dict(r), "data": json.loads(r["data"])} for r in rows]


async def timer_rows(pool: asyncpg.Pool, episode: str) -> dict[tuple[str, int], asyncpg.Record]:
    rows = await pool.fetch("SELECT * FROM timers WHERE episode_id = $1", episode)
    return {(r["kind"], r["sequence"]): r for r in rows}


async def open_timers(pool: asyncpg.Pool, episode: str) -> list[tuple[str, int]]:
    rows = await pool.fetch(
        "SELECT kind, sequence FROM timers WHERE episode_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
        episode,
    )
    return sorted((r["kind"], r["sequence"]) for r in rows)


async def test_nothing_fires_a_microsecond_before_it_is_due_and_it_fires_at_its_moment(pool):
    episode = new_episode()
    await plan(pool, episode)
    clock = ManualClock(DUE - timedelta(microseconds=1))
    early = await scheduler(pool, clock).run_once()
    assert (early.claimed, early.fired) == (0, 0)
    assert await events(pool, DUE_TYPE, episode) == []
    clock.set(DUE)
    on_time = await scheduler(pool, clock).run_once()
    assert (on_time.claimed, on_time.fired) == (1, 1)
    assert len(await events(pool, DUE_TYPE, episode)) == 1


async def test_a_due_timer_fires_exactly_once_with_one_evaluation_due_event(pool):
    episode = new_episode()
    timer_id = await plan(pool, episode)
    clock = ManualClock(DUE + timedelta(hours=2))
    first = scheduler(pool, clock)
    assert (await first.run_once()).fired == 1
    for _ in range(3):
        assert (await first.run_once()).claimed == 0
    clock.advance(timedelta(days=1))
    assert (await scheduler(pool, clock).run_once()).claimed == 0

    [due] = await events(pool, DUE_TYPE, episode)
    assert due["stream_version"] == 2  # after the EvaluationScheduled that planned it
    assert due["data"] == {
        "timer_id": str(timer_id),
        "evaluation_number": 1,
        "due_at": DUE.isoformat().replace("+00:00", "Z"),
        "fired_at": (DUE + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "overdue_after": (DUE + GRACE).isoformat().replace("+00:00", "Z"),
    }
    assert due["correlation_id"] == evaluation_correlation_id(episode, 1)
    assert due["causation_id"] is None
    assert due["guideline_version"] == "kngf-lrp-2003"
    rows = await timer_rows(pool, episode)
    assert rows[(EVALUATION_DUE, 1)]["fired_at"] == DUE + timedelta(hours=2)
    assert rows[(EVALUATION_OVERDUE, 1)]["due_at"] == DUE + GRACE
    assert await open_timers(pool, episode) == [(EVALUATION_OVERDUE, 1)]


async def test_a_timer_that_fell_due_while_the_scheduler_was_down_fires_on_its_first_run(pool):
    episode = new_episode()
    await plan(pool, episode)
    back_up = DUE + timedelta(days=3)  # down for three days across the due moment, within the grace
    stop = asyncio.Event()
    # A poll interval far beyond the test: only the run at start can fire it.
    running = asyncio.create_task(
        TimerScheduler(pool, STORE, ManualClock(back_up), SchedulerConfig(3600, 50, GRACE)).run(stop)
    )
    try:
        [due] = await eventually(lambda: events(pool, DUE_TYPE, episode), timeout=10, interval=0.02)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=5)
    assert due["data"]["due_at"] == DUE.isoformat().replace("+00:00", "Z")
    assert due["data"]["fired_at"] == back_up.isoformat().replace("+00:00", "Z")
    assert await events(pool, OVERDUE_TYPE, episode) == []


async def test_down_beyond_the_grace_period_an_evaluation_falls_due_and_then_overdue_once_each(pool):
    episode = new_episode()
    await plan(pool, episode)
    clock = ManualClock(DUE + GRACE + timedelta(days=1))
    # What an operator sees before the scheduler runs: one evaluation's timer has come and not fired.
    async with pool.acquire() as conn:
        await refresh_metrics(conn, clock.now())
        assert TIMERS_DUE.labels(EVALUATION_DUE)._value.get() == 1
        await refresh_metrics(conn, DUE - timedelta(days=1))
        assert (TIMERS_DUE.labels(EVALUATION_DUE)._value.get(), TIMERS_PLANNED.labels(EVALUATION_DUE)._value.get()) == (
            0,
            1,
        )
    s = scheduler(pool, clock)
    while (await s.run_once()).claimed:
        pass
    assert len(await events(pool, DUE_TYPE, episode)) == 1
    assert len(await events(pool, OVERDUE_TYPE, episode)) == 1
    assert await open_timers(pool, episode) == []
    async with pool.acquire() as conn:
        await refresh_metrics(conn, clock.now())
    assert [TIMERS_DUE.labels(kind)._value.get() for kind in (EVALUATION_DUE, EVALUATION_OVERDUE)] == [0, 0]


async def test_two_schedulers_on_one_database_fire_each_of_many_due_timers_exactly_once(pool, infrastructure):
    episodes = [new_episode() for _ in range(40)]
    planned: set[uuid.UUID] = set()
    for i, episode in enumerate(episodes):
        # Two evaluations per episode due at once, so both schedulers want the same stream at times.
        for number in (1, 2):
            planned.add(await plan(pool, episode, number, DUE + timedelta(seconds=i)))
    schema = await pool.fetchval("SELECT current_schema()")
    other_pool = await create_pool(infrastructure.database_url, schema, max_size=4)
    clock = ManualClock(DUE + timedelta(days=1))
    try:

        async def drain(s: TimerScheduler) -> int:
            fired = 0
            while True:
                result = await s.run_once()
                fired += result.fired
                if result.claimed == 0:
                    return fired
                await asyncio.sleep(0)

        fired_a, fired_b = await asyncio.gather(
            drain(scheduler(pool, clock, batch_size=5)), drain(scheduler(other_pool, clock, batch_size=5))
        )
    finally:
        await other_pool.close()

    due = await events(pool, DUE_TYPE)
    per_timer = Counter(uuid.UUID(e["data"]["timer_id"]) for e in due)
    assert set(per_timer) == planned
    assert set(per_timer.values()) == {1}
    assert fired_a + fired_b == len(planned) == 80
    assert fired_a > 0 and fired_b > 0  # both really took part
    versions = Counter(e["stream_id"] for e in due)
    assert set(versions.values()) == {2}
    for episode in episodes:
        assert await open_timers(pool, episode) == [(EVALUATION_OVERDUE, 1), (EVALUATION_OVERDUE, 2)]


async def test_an_unrecorded_evaluation_becomes_overdue_when_the_grace_period_ends_and_not_before(pool):
    episode = new_episode()
    timer_id = await plan(pool, episode)
    clock = ManualClock(DUE)
    s = scheduler(pool, clock)
    await s.run_once()
    clock.set(DUE + GRACE - timedelta(microseconds=1))
    assert (await s.run_once()).claimed == 0
    assert await events(pool, OVERDUE_TYPE, episode) == []
    clock.set(DUE + GRACE + timedelta(minutes=1))
    assert (await s.run_once()).fired == 1
    assert (await s.run_once()).claimed == 0

    [overdue] = await events(pool, OVERDUE_TYPE, episode)
    assert overdue["data"] == {
        "timer_id": str(timer_id),  # the evaluation's timer, as in EvaluationScheduled and EvaluationDue
        "evaluation_number": 1,
        "due_at": DUE.isoformat().replace("+00:00", "Z"),
        "overdue_since": (DUE + GRACE).isoformat().replace("+00:00", "Z"),
    }
    [due] = await events(pool, DUE_TYPE, episode)
    assert overdue["correlation_id"] == due["correlation_id"]
    assert overdue["stream_version"] == due["stream_version"] + 1
    assert await open_timers(pool, episode) == []


async def test_an_evaluation_recorded_in_time_plans_the_next_three_weeks_later_and_is_never_overdue(pool):
    episode = new_episode()
    await plan(pool, episode)
    clock = ManualClock(DUE)
    s = scheduler(pool, clock)
    await s.run_once()
    recorded_at = DUE + timedelta(days=2)
    decision = await record(pool, episode, 1, recorded_at)
    [next_one] = decision.announced
    assert (next_one.evaluation_number, next_one.due_at) == (2, recorded_at + timedelta(days=21))
    assert next_one.timer_id == timers.timer_id_for(episode, EVALUATION_DUE, 2)
    assert await open_timers(pool, episode) == [(EVALUATION_DUE, 2)]

    clock.set(DUE + GRACE + timedelta(days=1))
    assert (await s.run_once()).claimed == 0
    assert await events(pool, OVERDUE_TYPE, episode) == []
    clock.set(next_one.due_at)
    assert (await s.run_once()).fired == 1
    due = await events(pool, DUE_TYPE, episode)
    assert [(e["data"]["evaluation_number"], e["data"]["timer_id"]) for e in due] == [
        (1, str(timers.timer_id_for(episode, EVALUATION_DUE, 1))),
        (2, str(next_one.timer_id)),
    ]


async def test_recording_an_evaluation_twice_plans_the_next_one_once(pool):
    episode = new_episode()
    await plan(pool, episode)
    await scheduler(pool, ManualClock(DUE)).run_once()
    first = await record(pool, episode, 1, DUE + timedelta(days=1))
    again = await record(pool, episode, 1, DUE + timedelta(days=4))
    assert [(e.evaluation_number, e.due_at) for e in first.announced] == [(2, DUE + timedelta(days=22))]
    assert again == PlanDecision()
    assert [e["data"]["evaluation_number"] for e in await events(pool, EvaluationScheduled.event_type, episode)] == [
        1,
        2,
    ]
    assert await open_timers(pool, episode) == [(EVALUATION_DUE, 2)]


async def test_an_evaluation_recorded_before_it_fell_due_is_never_announced_as_due(pool):
    episode = new_episode()
    await plan(pool, episode)
    early = DUE - timedelta(days=2)
    decision = await record(pool, episode, 1, early)
    assert [e.due_at for e in decision.announced] == [early + timedelta(days=21)]
    assert await open_timers(pool, episode) == [(EVALUATION_DUE, 2)]
    clock = ManualClock(DUE + GRACE + timedelta(days=1))
    s = scheduler(pool, clock)
    assert (await s.run_once()).claimed == 0
    assert await events(pool, DUE_TYPE, episode) == []


async def test_recording_an_evaluation_the_pathway_never_planned_plans_nothing(pool):
    episode = new_episode()
    await plan(pool, episode)
    assert await record(pool, episode, 2, DUE) == PlanDecision()
    assert await open_timers(pool, episode) == [(EVALUATION_DUE, 1)]


async def test_timer_changes_outside_a_transaction_are_refused(pool):
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            await timers.write_plans(conn, [(new_episode(), StopAllTimers(DUE))])


async def test_a_closed_episode_leaves_nothing_to_fire_and_plans_nothing_new(pool):
    fell_due, not_yet_due = new_episode(), new_episode()
    await plan(pool, fell_due)
    await plan(pool, not_yet_due, due_at=DUE + timedelta(days=10))
    clock = ManualClock(DUE)
    s = scheduler(pool, clock)
    assert (await s.run_once()).fired == 1  # fell_due now waits on its overdue check
    for episode in (fell_due, not_yet_due):
        await intake_closes(pool, episode, DUE + timedelta(days=1))
        assert await open_timers(pool, episode) == []

    clock.set(DUE + timedelta(weeks=12))
    assert (await s.run_once()).claimed == 0
    assert await events(pool, OVERDUE_TYPE) == []
    assert [e["stream_id"] for e in await events(pool, DUE_TYPE)] == [fell_due]
    assert await record(pool, fell_due, 1, DUE + timedelta(days=2)) == PlanDecision()
    assert await open_timers(pool, fell_due) == []


async def test_a_timer_whose_evaluation_was_recorded_or_whose_episode_closed_is_spent_by_what_the_events_say(pool):
    # The firing is decided from the episode's events, not from the timer rows: a timer still open when its
    # evaluation was recorded (or its episode closed) raises nothing.
    recorded, closed = new_episode(), new_episode()
    await plan(pool, recorded)
    await plan(pool, closed)
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, recorded, [completed(1)])  # the EvaluationCompleted, its timers left as they were
    await intake_closes(pool, closed, DUE - timedelta(days=1), stop_timers=False)
    assert await open_timers(pool, recorded) == [(EVALUATION_DUE, 1)]

    result = await scheduler(pool, ManualClock(DUE)).run_once()
    assert (result.claimed, result.fired, result.spent) == (2, 0, 2)
    assert await events(pool, DUE_TYPE) == []


class PausingStore(EventStore):
    """The real event store, holding the scheduler's transaction open just before it appends."""

    def __init__(self) -> None:
        super().__init__("pathway", REGISTRY)
        self.inside = asyncio.Event()
        self.release = asyncio.Event()

    async def append(self, *args, **kwargs):
        self.inside.set()
        await self.release.wait()
        return await super().append(*args, **kwargs)


async def test_closing_an_episode_while_its_timer_is_firing_still_leaves_no_timer_open(pool):
    episode = new_episode()
    await plan(pool, episode)
    store = PausingStore()
    firing = asyncio.create_task(
        TimerScheduler(pool, store, ManualClock(DUE), SchedulerConfig(1, 10, GRACE)).run_once()
    )
    await asyncio.wait_for(store.inside.wait(), timeout=10)

    async def close() -> None:
        await intake_closes(pool, episode, DUE)

    closing = asyncio.create_task(close())
    await asyncio.sleep(0.3)
    assert not closing.done()  # it waits for the firing, which has inserted the overdue check by now
    store.release.set()
    assert (await asyncio.wait_for(firing, timeout=10)).fired == 1
    await asyncio.wait_for(closing, timeout=10)
    assert await open_timers(pool, episode) == []
    assert len(await events(pool, DUE_TYPE, episode)) == 1


async def test_the_scheduler_counts_timers_fired_by_kind_and_shows_how_far_it_lags(pool):
    def fired(kind: str) -> float:
        return METRICS.get_sample_value("ruggengraat_timers_fired_total", {"kind": kind}) or 0.0

    await plan(pool, new_episode(), due_at=DUE)
    await plan(pool, new_episode(), due_at=DUE + timedelta(minutes=10))
    before = fired(EVALUATION_DUE)
    clock = ManualClock(DUE + timedelta(hours=1))
    s = scheduler(pool, clock, batch_size=1)
    await s.run_once()
    assert fired(EVALUATION_DUE) == before + 1
    assert METRICS.get_sample_value("ruggengraat_timer_scheduler_lag_seconds") == 50 * 60
    await s.run_once()
    assert fired(EVALUATION_DUE) == before + 2
    assert METRICS.get_sample_value("ruggengraat_timer_scheduler_lag_seconds") == 0


async def test_the_timers_of_an_episode_that_waits_for_a_stuck_event_fire_only_once_it_is_settled(pool):
    stuck, flowing = new_episode(), new_episode()
    await plan(pool, stuck)
    await plan(pool, flowing)
    letter = DeadLetter(
        "pathway",
        Record("intake.events", 0, 1, stuck.encode(), b"{}"),
        DeadLetterReason.HANDLER_FAILED,
        "a bug",
        3,
        uuid.uuid4(),
        "intake.MeasurementRecorded",
        stuck,
    )
    async with pool.acquire() as conn:
        assert await record_dead_letter(conn, letter)
    s = scheduler(pool, ManualClock(DUE))
    assert (await s.run_once()).fired == 1
    assert [e["stream_id"] for e in await events(pool, DUE_TYPE)] == [flowing]

    await pool.execute("UPDATE dead_letters SET state = 'discarded' WHERE subject = $1", stuck)
    assert (await s.run_once()).fired == 1
    assert sorted(e["stream_id"] for e in await events(pool, DUE_TYPE)) == sorted([flowing, stuck])


async def test_the_operators_counts_per_practice_are_unrecorded_overdue_evaluations_and_escalations_of_open_episodes(
    pool,
):
    a, b, quiet = "04000001", "04000002", "04000003"
    late, recorded_late, closed_late, on_time, escalated, escalated_closed = (new_episode() for _ in range(6))
    practice = {late: a, recorded_late: a, closed_late: a, on_time: quiet, escalated: b, escalated_closed: b}
    async with pool.acquire() as conn:
        await episodes.record_parties(conn, [(e, sample_referral(agb)) for e, agb in practice.items()])
    for episode in (late, recorded_late, closed_late):
        await plan(pool, episode)
    await plan(pool, on_time, due_at=DUE + timedelta(days=60))
    clock = ManualClock(DUE + GRACE + timedelta(days=1))
    s = scheduler(pool, clock)
    while (await s.run_once()).claimed:
        pass
    await record(pool, recorded_late, 1, clock.now())  # recorded after it went overdue: no longer counted
    await intake_closes(pool, closed_late, clock.now())
    view = ProjectionRunner(pool, STORE, EpisodeView())
    while await view.run_once():
        pass
    escalation = {"reason": "no_progress", "section": "3.3", "explanation_nl": "Geen vooruitgang", "at": "x"}
    async with pool.acquire() as conn:
        await episodes.save_view_rows(
            conn, [ViewRow(e, START, escalations=[escalation]) for e in (escalated, escalated_closed)]
        )
    await intake_closes(pool, escalated_closed, clock.now())

    async def counts() -> list[tuple]:
        async with pool.acquire() as conn:
            return [tuple(row) for row in await episodes.attention_by_practice(conn)]

    assert await counts() == [(a, 0, 1), (b, 1, 0)]  # the quiet practice is left out
    # Rows folded before the view kept `overdue_open` get it from the events, as migration 0007 does.
    backfill = (MIGRATIONS / "0007_episode_view_overdue_open.sql").read_text().split(";", 1)[1]
    async with pool.acquire() as conn:
        await conn.execute("UPDATE episode_view SET overdue_open = '{}'")
        assert await counts() == [(b, 1, 0)]
        await conn.execute(backfill)
    assert await counts() == [(a, 0, 1), (b, 1, 0)]
