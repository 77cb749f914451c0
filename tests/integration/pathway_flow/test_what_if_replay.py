"""Re-deciding history is exact: a generated cohort goes through the real consumer and timer scheduler on real
PostgreSQL, and replaying every episode from the pathway's own copies of the facts, under the protocol that was in
force, gives exactly the decisions the pathway recorded — in order, field by field (zero differences)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.intake_history import FIRST_DAY, at
from services.pathway.domain.protocol import GUIDELINE_PROTOCOL
from services.pathway.domain.what_if import RulesCache, compare, replay
from services.pathway.store import history
from shared.clock import ManualClock
from shared.events import REGISTRY
from shared.events.payload import EventPayload
from tests.integration.pathway_flow.recording import STORE, record, timeline_of
from tests.unit.pathway_flow.cohort import episode_spec

pytestmark = pytest.mark.integration


def comparable(payload: EventPayload) -> tuple[str, dict]:
    """A decision as recorded, without the moment a timer happened to be fired (the scheduler's poll)."""
    data = json.loads(payload.model_dump_json())
    data.pop("fired_at", None)
    return payload.event_type, data


async def recorded_and_replayed(pool: asyncpg.Pool, cohort: list[dict]) -> list[tuple[list, list]]:
    """Run the cohort through the real consumer and scheduler, in time order; then per episode, in the cohort's
    order: (the decisions recorded, the decisions replayed under the protocol in force), as `comparable` tuples."""
    episodes = [str(uuid.uuid4()) for _ in cohort]
    timeline = timeline_of([(episodes[n], spec, n, FIRST_DAY) for n, spec in enumerate(cohort)])
    until = max(t[0] for t in timeline) + timedelta(days=120)
    await record(pool, ManualClock(at(FIRST_DAY)), timeline, until)

    async with pool.acquire() as conn:
        kept = list(history.decode_histories(await history.history_rows(conn, episodes), REGISTRY))
        recorded = await STORE.read_streams(conn, episodes)
    kept.sort(key=lambda h: episodes.index(h.episode_id))
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
