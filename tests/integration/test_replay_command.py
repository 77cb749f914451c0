"""The replay command rebuilds the pathway's read model from its event store."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from deploy.cli import app
from shared.db import open_service_database
from shared.events import REGISTRY
from shared.events.pathway import EvaluationDue, EvaluationScheduled
from shared.store.event_store import EventStore
from shared.store.migrate import event_store_migrations, migrations_in

pytestmark = pytest.mark.integration


async def test_replay_rebuilds_the_pathway_episode_view(fresh_database, monkeypatch):
    pool = await open_service_database(
        fresh_database, "pathway", event_store_migrations() + migrations_in("services.pathway")
    )
    store = EventStore("pathway", REGISTRY)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    episodes = [str(uuid.uuid4()) for _ in range(3)]
    try:
        async with pool.acquire() as conn:
            for episode in episodes:
                timer = uuid.uuid4()
                await store.append(
                    conn,
                    episode,
                    0,
                    [
                        EvaluationScheduled(timer_id=timer, evaluation_number=1, due_at=now),
                        EvaluationDue(timer_id=timer, evaluation_number=1, due_at=now, fired_at=now, overdue_after=now),
                    ],
                    time=now,
                    correlation_id=uuid.uuid4(),
                )
            await conn.execute("INSERT INTO episode_view (episode_id, last_event_at) VALUES ('stale', now())")
    finally:
        await pool.close()

    monkeypatch.setenv("DATABASE_URL", fresh_database)
    result = await asyncio.to_thread(CliRunner().invoke, app, ["replay", "pathway"], catch_exceptions=False)
    assert result.exit_code == 0 and "replayed 6 events" in result.output

    pool = await open_service_database(fresh_database, "pathway", [])
    try:
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT episode_id, evaluations_due, next_evaluation_number FROM episode_view")
    finally:
        await pool.close()
    assert sorted((r["episode_id"], r["evaluations_due"], r["next_evaluation_number"]) for r in rows) == sorted(
        (e, 1, 1) for e in episodes
    )
    assert CliRunner().invoke(app, ["replay", "nowhere"]).exit_code == 2


async def test_replay_rebuilds_the_reporting_network_model_from_its_copy(fresh_database, monkeypatch):
    pool = await open_service_database(
        fresh_database, "reporting", event_store_migrations() + migrations_in("services.reporting")
    )
    await pool.close()
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    result = await asyncio.to_thread(CliRunner().invoke, app, ["replay", "reporting"], catch_exceptions=False)
    assert result.exit_code == 0 and "replayed 0 events into the reporting read model" in result.output
