"""Retention on real Postgres: the due-list and the command that prints it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest
from typer.testing import CliRunner

from deploy.cli import app
from services.intake.handlers import list_retention_due
from shared.db import open_service_database
from shared.store.migrate import event_store_migrations, migrations_in

pytestmark = pytest.mark.integration


async def test_records_twenty_years_past_their_last_treatment_are_due_unless_erased(fresh_database, monkeypatch):
    pool = await open_service_database(
        fresh_database, "intake", event_store_migrations() + migrations_in("services.intake")
    )
    old, recent, erased = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        async with pool.acquire() as conn:
            for patient, last, erased_at in (
                (old, datetime(2006, 5, 1, tzinfo=UTC), None),
                (recent, datetime(2007, 1, 1, tzinfo=UTC), None),
                (erased, datetime(2001, 1, 1, tzinfo=UTC), datetime(2001, 1, 1, tzinfo=UTC)),
            ):
                await conn.execute(
                    "INSERT INTO patients (patient_id, practice_agb, created_at, last_treatment_at, erased_at)"
                    " VALUES ($1, '04123456', $2, $2, $3)",
                    patient,
                    last,
                    erased_at,
                )
        due = await list_retention_due(pool, date(2026, 11, 23))
        assert [d.patient_id for d in due] == [old]
        assert due[0].destruction_due_on == date(2026, 5, 1)
        assert [d.patient_id for d in await list_retention_due(pool, date(2026, 4, 30))] == []
    finally:
        await pool.close()

    monkeypatch.setenv("DATABASE_URL", fresh_database)
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["retention-due", "--as-of", "2027-01-01"], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert str(old) in result.output and str(recent) in result.output and str(erased) not in result.output
    bad = CliRunner().invoke(app, ["retention-due", "--as-of", "yesterday"])
    assert bad.exit_code == 2 and "as-of" in bad.output


async def test_the_access_log_refuses_to_be_changed(store_pool: asyncpg.Pool):
    async with store_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO access_log (at, service, actor_user, actor_role, actor_org, action, route, episode_id)"
            " VALUES (now(), 'test', 'u', 'practice', '04123456', 'read', 'GET /x', $1)",
            uuid.uuid4(),
        )
        for statement in ("UPDATE access_log SET actor_user = 'x'", "DELETE FROM access_log", "TRUNCATE access_log"):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM access_log") == 1
