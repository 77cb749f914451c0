"""Re-deciding history is exact: a generated cohort goes through the real consumer and timer scheduler on real
PostgreSQL, and replaying every episode from the pathway's own copies of the facts, under the protocol that was in
force, gives exactly the decisions the pathway recorded — in order, field by field (zero differences)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.pathway.domain.protocol import GUIDELINE_PROTOCOL
from services.pathway.domain.what_if import RulesCache, compare, replay
from services.pathway.handlers import INTAKE_EVENTS
from services.pathway.scheduler import SchedulerConfig, TimerScheduler
from services.pathway.store import history
from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import IdempotentConsumer, Outcome
from shared.events import REGISTRY, new_envelope
from shared.events.payload import EventPayload
from shared.store.event_store import EventStore
from shared.store.migrate import migrate, migrations_in
from tests.unit.pathway_flow.cohort import FIRST_DAY, at, episode_events, episode_spec

pytestmark = pytest.mark.integration

STORE = EventStore("pathway", REGISTRY)
GRACE = GUIDELINE_PROTOCOL.overdue_grace


@pytest.fixture
async def pool(store_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    async with store_pool.acquire() as conn:
        await migrate(conn, await conn.fetchval("SELECT current_schema()"), migrations_in("services.pathway"))
    yield store_pool


def comparable(payload: EventPayload) -> tuple[str, dict]:
    """A decision as recorded, without the moment a timer happened to be fired (the scheduler's poll)."""
    data = json.loads(payload.model_dump_json())
    data.pop("fired_at", None)
    return payload.event_type, data


async def recorded_and_replayed(pool: asyncpg.Pool, cohort: list[dict]) -> list[tuple[list, list]]:
    """Run the cohort through the real consumer and scheduler, in time order; then per episode, in the cohort's
    order: (the decisions recorded, the decisions replayed under the protocol in force), as `comparable` tuples."""
    clock = ManualClock(at(FIRST_DAY))
    consumer = IdempotentConsumer("pathway", pool, STORE, REGISTRY, [INTAKE_EVENTS], clock)
    scheduler = TimerScheduler(pool, STORE, clock, SchedulerConfig(0.01, 50, GRACE))
    timeline, episodes = [], []
    for n, spec in enumerate(cohort):
        episode = str(uuid.uuid4())
        episodes.append(episode)
        for version, (moment, payload) in enumerate(episode_events(spec, n), start=1):
            timeline.append((moment, episode, version, payload))
    timeline.sort(key=lambda item: (item[0], item[1], item[2]))
    for offset, (moment, episode, version, payload) in enumerate(timeline):
        clock.set(moment)
        while (await scheduler.run_once()).claimed:  # the timers whose moment came fire first
            pass
        envelope = new_envelope(
            payload, service="intake", subject=episode, stream_version=version, time=moment, correlation_id=uuid.uuid4()
        )
        record = Record("intake.events", 0, offset, episode.encode(), envelope.to_json())
        assert await consumer.process(record) is Outcome.HANDLED
    until = max(t[0] for t in timeline) + timedelta(days=120)
    clock.set(until)
    while (await scheduler.run_once()).claimed:
        pass

    async with pool.acquire() as conn:
        kept = await history.histories(conn, REGISTRY, episodes)
        recorded = await STORE.read_streams(conn, episodes)
    assert [h.episode_id for h in kept] == episodes
    rules = RulesCache()
    pairs = []
    for episode_history in kept:
        replayed = replay(episode_history, lambda _: GUIDELINE_PROTOCOL, until, rules)
        assert not compare(episode_history, replayed, replayed).differs
        as_recorded = [comparable(e.payload(REGISTRY)) for e in recorded.get(episode_history.episode_id, [])]
        pairs.append((as_recorded, [comparable(d.payload) for d in replayed]))
    return pairs


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cohort=st.lists(episode_spec, min_size=1, max_size=12))
async def test_replaying_under_the_protocol_in_force_gives_what_the_pathway_recorded(pool: asyncpg.Pool, cohort):
    for as_recorded, replayed in await recorded_and_replayed(pool, cohort):
        assert replayed == as_recorded


async def test_a_fixed_cohort_reaches_evaluations_timers_escalations_and_closing_and_replays_exactly(pool):
    """What the property exercises: evaluations with and without progress, timers due and overdue, escalations
    (no progress, radicular signs), plans and closing — each replayed exactly."""
    base = {"referred": 0, "minute": 0, "onset_days": 120, "deviating": True, "radicular": False, "start_after": 2}
    cohort = [
        {**base, "evaluations": [(21, 5)], "baseline": 5, "closed_after": None},  # no progress: escalates
        {**base, "evaluations": [(21, 1), (42, 0)], "baseline": 5, "closed_after": 3},  # progress, closed
        {**base, "evaluations": [], "baseline": 4, "closed_after": None},  # never evaluated: due, then overdue
        {**base, "radicular": True, "evaluations": [], "baseline": 3, "closed_after": 1},  # outside the guideline
    ]
    pairs = await recorded_and_replayed(pool, cohort)
    for as_recorded, replayed in pairs:
        assert replayed == as_recorded
    types = [{t.rsplit(".", 1)[1] for t, _ in as_recorded} for as_recorded, _ in pairs]
    assert {"EvaluationCompleted", "EscalatedToReferrer"} <= types[0]
    assert "EvaluationScheduled" in types[1] and "EscalatedToReferrer" not in types[1]
    assert {"EvaluationDue", "EvaluationOverdue"} <= types[2]
    reasons = [d["reason"] for t, d in pairs[3][0] if t.endswith("EscalatedToReferrer")]
    assert reasons == ["radicular_signs"]
