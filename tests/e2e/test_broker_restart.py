"""The broker comes back empty: every event still reaches every consumer, once in effect."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.support import patient, referrer

pytestmark = pytest.mark.e2e


def referral(n: int) -> dict:
    return {
        "referral_id": f"R-{n}",
        "route": "gp_referral",
        "practice_agb": "04123456",
        "referrer_agb": "01234567",
        "referred_on": "2026-11-20",
        "patient": patient(n),
    }


async def test_events_unconsumed_when_the_broker_restarts_empty_still_arrive_exactly_once(
    fresh_database, restartable_broker, tmp_path
):
    with running_system(fresh_database, restartable_broker.bootstrap, tmp_path) as system:
        async with httpx.AsyncClient() as client:
            for n in range(10):
                assert (
                    await client.post(f"{system.url('intake')}/v1/referrals", json=referral(n), headers=referrer())
                ).status_code == 201
        conn = await asyncpg.connect(fresh_database)
        try:

            async def pathway_has(n: int):
                return await conn.fetchval("SELECT count(*) FROM pathway.events") == n

            await eventually(lambda: pathway_has(10))

            # pathway is down while intake publishes ten more: they sit on the broker, unconfirmed …
            system.services["pathway"].stop()
            async with httpx.AsyncClient() as client:
                for n in range(10, 20):
                    response = await client.post(
                        f"{system.url('intake')}/v1/referrals", json=referral(n), headers=referrer()
                    )
                    assert response.status_code == 201

            async def intake_relayed():
                return await conn.fetchval("SELECT position FROM intake.relay_checkpoints") == await conn.fetchval(
                    "SELECT max(position) FROM intake.events"
                )

            await eventually(intake_relayed)

            # … and the broker loses them all
            restartable_broker.restart_empty()
            system.restart("pathway")

            await eventually(lambda: pathway_has(20), timeout=90)
            assert await conn.fetchval("SELECT count(DISTINCT stream_id) FROM pathway.events") == 20
            assert await conn.fetchval("SELECT count(*) FROM pathway.timers") == 20

            async def reporting_complete():
                return (
                    await conn.fetchval(
                        "SELECT count(*) FROM reporting.episode_overview WHERE route IS NOT NULL"
                        " AND evaluations_scheduled = 1"
                    )
                    == 20
                )

            await eventually(reporting_complete, timeout=90)
            assert await conn.fetchval("SELECT count(*) FROM reporting.inbox") == 40
            assert await conn.fetchval("SELECT count(*) FROM pathway.inbox") == 20
            assert await conn.fetchval("SELECT count(*) FROM intake.events") == 20
            async with httpx.AsyncClient() as client:
                metrics = (await client.get(f"{system.url('intake')}/metrics")).text
            assert _metric(metrics, "ruggengraat_broker_resets_total") >= 1
            # the ten pathway had not confirmed went out again (reporting's unconfirmed ones may add more)
            assert _metric(metrics, "ruggengraat_events_republished_total") >= 10
        finally:
            await conn.close()


def _metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))
