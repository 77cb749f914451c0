"""The network read model on real Postgres: consumed through the idempotent consumer in any order and twice,
rebuilt by replay to the same rows, and served by the API to exactly the callers allowed to see it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from bench.reporting_replay import synthetic_episode
from deploy.local import dev_headers
from services.reporting.handlers import NETWORK as FOLLOW_NETWORK
from services.reporting.rebuild import rebuild_network as rebuild
from services.reporting.routes.network import page_router, router
from services.reporting.settings import ReportingSettings
from shared.auth import DEVELOPMENT_SECRET
from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import IdempotentConsumer, Outcome
from shared.events import REGISTRY, new_envelope
from shared.http import install_problem_handlers
from shared.service import Runtime
from shared.store.event_store import EventStore
from shared.store.migrate import event_store_migrations, migrations_in
from tests.conftest import schema_pool

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
STORE = EventStore("reporting", REGISTRY)
PRACTICE_A, PRACTICE_B = "04111111", "04222222"
ROWS = "SELECT * FROM network_episodes ORDER BY episode_id"


@pytest.fixture
async def pool(infrastructure) -> AsyncIterator[asyncpg.Pool]:
    migrations = event_store_migrations() + migrations_in("services.reporting")
    async with schema_pool(infrastructure.database_url, migrations, prefix="rn") as pool:
        yield pool


def consumer(pool: asyncpg.Pool) -> IdempotentConsumer:
    return IdempotentConsumer("reporting", pool, STORE, REGISTRY, [FOLLOW_NETWORK], ManualClock(NOW))


def records(seed: int, episodes: list[tuple[str, date]]) -> list[Record]:
    rng = random.Random(seed)
    out = []
    for practice, referred_on in episodes:
        episode_id = str(uuid.UUID(int=rng.getrandbits(128)))
        for source, version, payload in synthetic_episode(rng, practice, referred_on):
            envelope = new_envelope(
                payload,
                service=source,
                subject=episode_id,
                stream_version=version,
                time=NOW,
                correlation_id=uuid.uuid4(),
            )
            out.append(Record(f"{source}.events", 0, len(out), episode_id.encode(), envelope.to_json()))
    return out


def cohort_records(seed: int = 3) -> list[Record]:
    months = [date(2026, 11, 3), date(2026, 12, 2)]
    episodes = [(PRACTICE_A, months[i % 2]) for i in range(24)] + [(PRACTICE_B, months[0]) for _ in range(3)]
    return records(seed, episodes)


async def test_events_in_any_order_and_twice_fold_to_the_same_rows_that_replay_rebuilds(pool):
    given = cohort_records()
    handled_types = {m.event_type for m in FOLLOW_NETWORK.types}
    again = random.Random(1).sample(given, 40)
    shuffled = given + again
    random.Random(2).shuffle(shuffled)
    first = consumer(pool)
    outcomes = [await first.process(r) for r in shuffled]
    assert outcomes.count(Outcome.DUPLICATE) == sum(1 for r in again if new_type(r) in handled_types) > 20
    kept = sum(1 for r in given if new_type(r) in handled_types)
    assert outcomes.count(Outcome.HANDLED) == kept and Outcome.DEAD_LETTERED not in outcomes

    async with pool.acquire() as conn:
        live = [dict(r) for r in await conn.fetch(ROWS)]
        copies = await conn.fetchval("SELECT count(*) FROM network_received_events")
        await conn.execute("UPDATE network_episodes SET sessions = 99")  # a damaged read model
    assert copies == kept and len(live) == 27
    assert {r["practice_agb"] for r in live} == {PRACTICE_A, PRACTICE_B}
    assert all("patient" not in r["facts"] and "personal" not in r["facts"] for r in live)

    progress: list[tuple[int, int]] = []
    applied = await rebuild(pool, lambda done, total: progress.append((done, total)))
    async with pool.acquire() as conn:
        rebuilt = [dict(r) for r in await conn.fetch(ROWS)]
    assert applied == kept and progress[-1] == (kept, kept)
    assert rebuilt == live


def new_type(record: Record) -> str:
    return json.loads(record.value or b"{}")["type"]


async def test_an_event_consumed_during_a_replay_is_folded_in_after_it(pool):
    given = cohort_records(seed=5)
    last_episode = given[-1].key
    held_back = [r for r in given if r.key == last_episode]
    first = consumer(pool)
    for record in given:
        if record not in held_back:
            await first.process(record)

    async def replay_then_count() -> int:
        return await rebuild(pool)

    results = await asyncio.gather(replay_then_count(), *(first.process(r) for r in held_back))
    assert all(outcome is Outcome.HANDLED or outcome is Outcome.IGNORED for outcome in results[1:])
    async with pool.acquire() as conn:
        after_race = [dict(r) for r in await conn.fetch(ROWS)]
    await rebuild(pool)
    async with pool.acquire() as conn:
        rebuilt = [dict(r) for r in await conn.fetch(ROWS)]
    assert after_race == rebuilt and len(rebuilt) == 27


@pytest.fixture
async def api(pool) -> AsyncIterator[httpx.AsyncClient]:
    first = consumer(pool)
    for record in cohort_records():
        await first.process(record)
    app = FastAPI()
    app.state.jwt_secret = DEVELOPMENT_SECRET
    app.state.runtime = Runtime(ReportingSettings(), pool, STORE, ManualClock(NOW))
    install_problem_handlers(app)
    app.include_router(router)
    app.include_router(page_router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
        yield client


NETWORK = dev_headers("network", "regio-west", user="coordinator")


async def test_the_network_sees_every_practice_per_month_with_every_count_rounded_to_fives(api):
    report = (await api.get("/v1/network/quality", headers=NETWORK)).json()
    assert report["scope"] == "network" and report["method"]["base"] == 5
    rows = {(r["practice_agb"], r["month"]): r for r in report["rows"]}
    assert (
        {(PRACTICE_A, "2026-11"), (PRACTICE_A, "2026-12")}
        <= set(rows)
        <= {
            (PRACTICE_A, "2026-11"),
            (PRACTICE_A, "2026-12"),
            (PRACTICE_B, "2026-11"),
        }
    )
    assert rows[(PRACTICE_A, "2026-11")]["counts"]["episodes"] in (10, 15)  # 12 episodes
    assert all(value % 5 == 0 for r in report["rows"] for value in r["counts"].values())
    if (PRACTICE_B, "2026-11") in rows:  # 3 episodes: rounded to 5, or to 0 and left out
        assert rows[(PRACTICE_B, "2026-11")]["counts"]["episodes"] == 5
    text = str(report)
    assert "episode_id" not in text and "patient" not in text

    december = (await api.get("/v1/network/quality?from=2026-12&to=2026-12", headers=NETWORK)).json()
    assert [(r["practice_agb"], r["month"]) for r in december["rows"]] == [(PRACTICE_A, "2026-12")]
    assert december["months"] == ["2026-12"]
    one = (await api.get(f"/v1/network/quality?practice={PRACTICE_A}", headers=NETWORK)).json()
    assert {r["practice_agb"] for r in one["rows"]} == {PRACTICE_A} and one["network"] == report["network"]


async def test_a_practice_sees_only_its_own_figures_and_is_refused_another_practice(api):
    own = (await api.get("/v1/network/quality", headers=dev_headers("practice", PRACTICE_A))).json()
    assert own["scope"] == "practice" and own["practice"] == PRACTICE_A
    assert {r["practice_agb"] for r in own["rows"]} == {PRACTICE_A}
    other = await api.get(f"/v1/network/quality?practice={PRACTICE_B}", headers=dev_headers("practice", PRACTICE_A))
    assert other.status_code == 403 and other.headers["content-type"] == "application/problem+json"
    other_csv = await api.get(
        f"/v1/network/quality.csv?practice={PRACTICE_B}", headers=dev_headers("practice", PRACTICE_A)
    )
    assert other_csv.status_code == 403


@pytest.mark.parametrize("role", ["referrer", "subscriber", "operator", "service"])
async def test_other_roles_and_callers_without_a_token_get_no_figures(api, role):
    assert (await api.get("/v1/network/quality", headers=dev_headers(role, "01234567"))).status_code == 403
    assert (await api.get("/v1/network/quality.csv", headers=dev_headers(role, "01234567"))).status_code == 403
    assert (await api.get("/v1/network/quality")).status_code == 401
    assert (await api.get("/v1/network/quality.csv")).status_code == 401


async def test_filters_are_checked(api):
    for query in (
        "from=2026-13",
        "to=26-11",
        "practice=123",
        "from=2026-12&to=2026-11",
        "from=1000-01",  # a year no episode has: the trend would run over 12,000 months
        "from=2000-01&to=2010-01",  # more than ten years in one request
    ):
        response = await api.get(f"/v1/network/quality?{query}", headers=NETWORK)
        assert response.status_code == 422, query


async def test_the_csv_holds_the_same_figures_as_the_json(api):
    report = (await api.get("/v1/network/quality", headers=NETWORK)).json()
    response = await api.get("/v1/network/quality.csv", headers=NETWORK)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    months = [r for r in rows if r["niveau"] == "maand"]
    assert [(r["praktijk (AGB)"], r["maand"], r["episodes"]) for r in months] == [
        (r["practice_agb"], r["month"], str(r["counts"]["episodes"])) for r in report["rows"]
    ]
    for row, json_row in zip(months, report["rows"], strict=True):
        assert row["chronisch (> 12 weken)"] == str(json_row["counts"]["duration:chronic"])
        assert row["beloop nog niet te classificeren"] == str(json_row["counts"]["course:not_classifiable"])
    network = rows[-1]
    assert network["niveau"] == "netwerk" and network["episodes"] == str(report["network"]["counts"]["episodes"])
    english = await api.get("/v1/network/quality.csv?lang=en", headers=NETWORK)
    assert english.text.startswith("level,practice (AGB),month,episodes,acute (< 6 weeks)")
    assert (await api.get("/v1/network/quality.csv?lang=fr", headers=NETWORK)).status_code == 422


async def test_the_visitation_report_is_a_pdf_for_the_network_and_the_practice_itself(api):
    data = await api.get(f"/v1/network/practices/{PRACTICE_A}/visitation.json?year=2026", headers=NETWORK)
    assert data.status_code == 200
    body = data.json()
    assert body["practice_agb"] == PRACTICE_A and body["year"] == 2026 and body["practice"]["counts"]["episodes"] > 0
    assert [c["key"] for c in body["indicators"]][:3] == body["adherence"]
    pdf = await api.get(
        f"/v1/network/practices/{PRACTICE_A}/visitation?year=2026", headers=dev_headers("practice", PRACTICE_A)
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    other = await api.get(
        f"/v1/network/practices/{PRACTICE_B}/visitation?year=2026", headers=dev_headers("practice", PRACTICE_A)
    )
    assert other.status_code == 403 and other.headers["content-type"] == "application/problem+json"
    missing = await api.get(f"/v1/network/practices/{PRACTICE_A}/visitation", headers=NETWORK)
    assert missing.status_code == 422 and "year" in missing.text
    for bad in (f"/v1/network/practices/{PRACTICE_A}/visitation?year=1999", "/v1/network/practices/4111/visitation"):
        assert (await api.get(bad, headers=NETWORK)).status_code == 422, bad
    assert (await api.get(f"/v1/network/practices/{PRACTICE_A}/visitation?year=2026")).status_code == 401


async def test_the_page_and_its_scripts_are_served_by_the_service_and_hold_no_figures(api):
    page = await api.get("/network")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert set(re.findall(r'(?:src|href)="([^"]*)"', page.text)) == {
        "data:,",  # no favicon request
        "/network/static/dashboard.css",
        "/network/static/chart.umd.min.js",
        "/network/static/token.js",  # the token kept per tab, shared by every page
        "/network/static/dashboard.js",
        "/network/protocol",  # the network's protocol and its "what if", on the pathway
    }
    assert PRACTICE_A not in page.text
    chart = await api.get("/network/static/chart.umd.min.js")
    assert chart.status_code == 200 and "Chart.js v4" in chart.text[:200]
    assert (await api.get("/network/static/dashboard.js")).status_code == 200
    shared = await api.get("/network/static/token.js")
    assert shared.status_code == 200 and "RuggengraatToken" in shared.text
    assert shared.headers["content-type"] == "text/javascript; charset=utf-8"
    assert (await api.get("/network/static/..%2Froutes.py")).status_code == 404
    assert (await api.get("/network/static/NOTICE")).status_code == 404


@pytest.mark.parametrize(
    ("settings", "location"),
    [
        (
            {"protocol_page_url": "https://pad.rugnetwerk.nl/network/protocol"},
            "https://pad.rugnetwerk.nl/network/protocol",
        ),
        ({"peer_urls": {"pathway": "http://127.0.0.1:8002/"}}, "http://127.0.0.1:8002/network/protocol"),
        ({}, None),
    ],
)
async def test_the_dashboard_leads_to_the_protocol_page_on_the_pathway(pool, settings, location):
    """The link on the dashboard goes to the pathway's page as the browser reaches it: the address configured,
    else the pathway's address in PEER_URLS; with neither, a 404 that says what to set."""
    app = FastAPI()
    app.state.runtime = Runtime(ReportingSettings(**settings), pool, STORE, ManualClock(NOW))
    install_problem_handlers(app)
    app.include_router(page_router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
        answer = await client.get("/network/protocol")
    if location is None:
        assert answer.status_code == 404 and "PROTOCOL_PAGE_URL" in answer.text
    else:
        assert answer.status_code == 307 and answer.headers["location"] == location
