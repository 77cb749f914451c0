"""One referral travels through all four services, each its own process, on real Postgres and broker."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from tests.conftest import eventually
from tests.e2e.conftest import Receiver, running_system
from tests.support import patient, practice, referrer, subscriber

pytestmark = pytest.mark.e2e

REFERRAL = {
    "referral_id": "HIS-2026-000123",
    "route": "gp_referral",
    "practice_agb": "04123456",
    "referrer_agb": "01234567",
    "referred_on": "2026-11-20",
    "symptom_onset": "2026-11-02",
    "patient": patient(1),
    "request_for_help": "Weer kunnen fietsen",
    "reason": "Aspecifieke lage rugpijn",
}
TYPES = ["nl.ruggengraat.intake.ReferralReceived", "nl.ruggengraat.pathway.EvaluationScheduled"]


async def get_json(url: str, headers: dict[str, str] | None = None):
    async with httpx.AsyncClient() as client:
        response = await client.get(url, headers=headers or practice())
    return response.json() if response.status_code == 200 else None


async def test_a_referral_reaches_pathway_notifications_and_reporting(
    fresh_database, infrastructure, receiver: Receiver, tmp_path
):
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path) as system:
        async with httpx.AsyncClient() as client:
            created = await client.post(
                f"{system.url('notifications')}/v1/subscriptions",
                json={"endpoint_url": f"{receiver.url}/hook", "event_types": TYPES},
                headers=subscriber(),
            )
            assert created.status_code == 201, created.text
            subscription = created.json()
            receiver.configure(secret=subscription["secret"])

            # 1. the GP system posts a referral to intake
            correlation = "3b0a3f0e-8a7c-4c0e-9a43-2d6f1b1e7c55"
            posted = await client.post(
                f"{system.url('intake')}/v1/referrals",
                json=REFERRAL,
                headers={"x-correlation-id": correlation, **referrer()},
            )
            assert posted.status_code == 201, posted.text
            assert posted.headers["x-correlation-id"] == correlation
            episode = posted.json()["episode_id"]
            again = await client.post(f"{system.url('intake')}/v1/referrals", json=REFERRAL, headers=referrer())
            assert again.status_code == 200 and again.json()["episode_id"] == episode

        # 2. ReferralReceived is stored in intake's event store (and relayed: see hops 3-5)
        conn = await asyncpg.connect(fresh_database)
        try:
            stored = await conn.fetch(
                "SELECT event_type, stream_version FROM intake.events WHERE stream_id = $1", episode
            )
            assert [(r["event_type"], r["stream_version"]) for r in stored] == [(TYPES[0], 1)]

            # 3. pathway consumed it: a durable timer row and an EvaluationScheduled event
            pathway = await eventually(lambda: get_json(f"{system.url('pathway')}/v1/episodes/{episode}"))
            decisions = [e for e in pathway["timeline"] if e["source"] == "pathway"]
            assert [e["type"] for e in decisions] == [TYPES[1]]
            assert decisions[0]["guideline_version"] == "kngf-lrp-2003"
            assert [e["type"] for e in pathway["timeline"] if e["source"] == "intake"] == [TYPES[0]]
            pathway_correlation = await conn.fetchval(
                "SELECT correlation_id::text FROM pathway.events WHERE stream_id = $1", episode
            )
            assert pathway_correlation == correlation  # the whole flow carries the GP system's id
            [evaluation] = pathway["evaluations"]
            assert evaluation["evaluation_number"] == 1 and not evaluation["fired"]
            timers = await conn.fetch(
                "SELECT kind, sequence, fired_at FROM pathway.timers WHERE episode_id = $1", episode
            )
            assert [(t["kind"], t["sequence"], t["fired_at"]) for t in timers] == [("evaluation_due", 1, None)]
        finally:
            await conn.close()

        # 4. notifications delivered both events as signed CloudEvents to the subscriber
        async def both_delivered():
            received = await asyncio.to_thread(receiver.received)
            return received if len(received["events"]) == 2 else None

        received = await eventually(both_delivered)
        # Both topics reach notifications independently, yet the cause is delivered before its effect.
        assert [e["type"] for e in received["events"]] == TYPES
        assert {e["subject"] for e in received["events"]} == {episode}
        assert [e["sequence"] for e in received["events"]] == [1, 2]
        assert received["rejected"] == 0
        deliveries = await get_json(
            f"{system.url('notifications')}/v1/subscriptions/{subscription['subscription_id']}/deliveries",
            subscriber(),
        )
        assert [d["status"] for d in deliveries] == ["delivered", "delivered"]

        # 5. reporting shows the episode in its read model
        async def overview():
            row = await get_json(f"{system.url('reporting')}/v1/episodes/{episode}")
            return row if row and row["route"] and row["evaluations_scheduled"] == 1 else None

        row = await eventually(overview)
        assert row["practice_agb"] == "04123456" and row["referrer_agb"] == "01234567"
        assert row["next_evaluation_due"] == evaluation["due_at"]

        # every service is healthy and counts what it did
        async with httpx.AsyncClient() as client:
            for name in system.services:
                assert (await client.get(f"{system.url(name)}/ready")).json()["status"] == "ready"
            metrics = (await client.get(f"{system.url('pathway')}/metrics")).text
        assert 'ruggengraat_events_consumed_total{consumer="pathway",outcome="handled"} 1.0' in metrics
        assert "ruggengraat_events_published_total" in metrics


async def test_bad_input_gets_a_problem_answer_naming_the_field(fresh_database, infrastructure, tmp_path):
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path) as system:
        async with httpx.AsyncClient() as client:
            bad = await client.post(
                f"{system.url('intake')}/v1/referrals", json={**REFERRAL, "practice_agb": "123"}, headers=referrer()
            )
            await client.post(f"{system.url('intake')}/v1/referrals", json=REFERRAL, headers=referrer())
            changed = await client.post(
                f"{system.url('intake')}/v1/referrals",
                json={**REFERRAL, "referred_on": "2026-11-21"},
                headers=referrer(),
            )
            bad_url = await client.post(
                f"{system.url('notifications')}/v1/subscriptions",
                json={"endpoint_url": "ftp://x", "event_types": ["nl.ruggengraat.nope"]},
                headers=subscriber(),
            )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "practice_agb"
    assert changed.status_code == 422 and changed.json()["errors"][0]["field"] == "referral_id"
    assert bad_url.status_code == 422 and bad_url.json()["errors"][0]["field"] == "event_types"
