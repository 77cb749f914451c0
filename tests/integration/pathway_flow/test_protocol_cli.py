"""`./ruggengraat protocol what-if draft.json --from … --to …` against an installation's database: the network's
rounded figures per practice, a practice's own episodes, and a clear error for a draft the rules refuse."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from deploy.cli import app
from shared.clock import ManualClock
from shared.db import open_service_database
from shared.store.migrate import event_store_migrations, migrations_in
from tests.integration.pathway_flow.recording import OWN, record_cohort

pytestmark = pytest.mark.integration


@pytest.fixture
async def recorded(fresh_database, monkeypatch) -> str:
    pool = await open_service_database(
        fresh_database, "pathway", event_store_migrations() + migrations_in("services.pathway")
    )
    try:
        await record_cohort(pool, ManualClock(datetime(2026, 6, 1, tzinfo=UTC)), {0: 12}, date(2026, 6, 2))
    finally:
        await pool.close()
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    return fresh_database


def draft_file(tmp_path, **values) -> str:
    path = tmp_path / "draft.json"
    path.write_text(json.dumps({"version": "vier-weken", "values": values}))
    return str(path)


async def invoke(*args: str):
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), catch_exceptions=False)


async def test_the_network_sees_rounded_figures_per_practice(recorded, tmp_path):
    draft = draft_file(tmp_path, evaluation_interval_days=28)
    result = await invoke("protocol", "what-if", draft, "--from", "2026-06-01", "--to", "2026-07-01")
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if OWN in line]
    numbers = [int(cell) for cell in row.replace("│", " ").split()[1:]]
    assert numbers[0] in (10, 15) and all(n % 5 == 0 for n in numbers)
    assert "afgerond op vijftallen" in result.output and "re-deciding" in result.output


async def test_a_practice_sees_its_own_episodes_that_would_differ(recorded, tmp_path):
    draft = draft_file(tmp_path, evaluation_interval_days=28)
    args = ("protocol", "what-if", draft, "--from", "2026-06-01", "--to", "2026-07-01", "--practice", OWN)
    result = await invoke(*args)
    assert result.exit_code == 0, result.output
    assert "12 eigen episodes zouden anders lopen" in result.output
    assert result.output.count("evaluatie 1:") == 12


async def test_a_draft_outside_the_rules_or_a_period_not_in_months_is_refused_clearly(recorded, tmp_path):
    refused = await invoke(
        "protocol",
        "what-if",
        draft_file(tmp_path, evaluation_interval_days=70),
        "--from",
        "2026-06-01",
        "--to",
        "2026-07-01",
    )
    assert refused.exit_code == 2 and "evaluation_interval_days" in refused.output
    mid_month = await invoke("protocol", "what-if", draft_file(tmp_path), "--from", "2026-06-05", "--to", "2026-07-01")
    assert mid_month.exit_code == 2 and "first day of a month" in mid_month.output
