"""The network adopts its protocol through the pathway's API on real PostgreSQL: refused with field and reason
outside the guideline's room, before tomorrow, or twice under one version; in force from its effective date, so
decisions from that day follow it and record both versions, while decisions made before stay as recorded."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from deploy.local import dev_headers
from services.pathway.domain.protocol import Protocol, ProtocolValues
from services.pathway.handlers import what_if
from services.pathway.routes.protocols import router
from services.pathway.settings import PathwaySettings
from services.pathway.store import PathwayStore
from shared.auth import DEVELOPMENT_SECRET, Caller, Role
from shared.clock import ManualClock
from shared.db import DatabaseAddress
from shared.events import REGISTRY
from shared.events.intake import TreatmentPlanAgreed
from shared.events.pathway import EvaluationScheduled
from shared.http import install_problem_handlers
from shared.service import Runtime
from tests.integration.pathway_flow.recording import OTHER, OWN, STORE, record, record_cohort, timeline_of

pytestmark = pytest.mark.integration

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
NETWORK = dev_headers("network", "regio-west", user="coordinator")
PRACTICE = dev_headers("practice", "04123456", user="fysio")
EVERY_FOUR_WEEKS = {"version": "rug-2027.1", "title": "Regio West 2027", "values": {"evaluation_interval_days": 28}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def api(pool, clock, infrastructure) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.jwt_secret = DEVELOPMENT_SECRET
    schema = await pool.fetchval("SELECT current_schema()")
    settings = PathwaySettings(database_url=infrastructure.database_url, service_name=schema)
    app.state.runtime = Runtime(settings, pool, STORE, clock)
    install_problem_handlers(app)
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pathway") as client:
        yield client


def adoption(protocol: dict, effective_from: str) -> dict:
    return {"protocol": protocol, "effective_from": effective_from}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (
            adoption({"version": "x", "values": {"evaluation_interval_days": 49}}, "2027-02-01"),
            "evaluation_interval_days",
            "42",
        ),
        (
            adoption({"version": "x", "values": {"evaluation_interval_days": 25}}, "2027-02-01"),
            "evaluation_interval_days",
            "whole weeks",
        ),
        (
            adoption({"version": "x", "values": {"no_effect_escalation_days": 28}}, "2027-02-01"),
            "no_effect_escalation_days",
            "21",
        ),
        (
            adoption({"version": "x", "values": {"bed_rest_max_days": 1}}, "2027-02-01"),
            "bed_rest_max_days",
            "Extra inputs",
        ),
        (adoption({"version": "Not A Version"}, "2027-02-01"), "version", "pattern"),
        (adoption({"version": "x"}, "2027-01-10"), "effective_from", "must lie after today (2027-01-10)"),
        (
            adoption({"version": "x", "guideline_version": "kngf-lrp-2099"}, "2027-02-01"),
            "protocol.guideline_version",
            "unknown rule version",
        ),
    ],
)
async def test_a_protocol_outside_the_rules_is_refused_with_the_field_and_the_reason(api, body, field, reason):
    answer = await api.post("/v1/network/protocols", json=body, headers=NETWORK)
    assert answer.status_code == 422, answer.text
    assert field in answer.text and reason in answer.text
    assert (await api.get("/v1/network/protocols", headers=NETWORK)).json()["adopted"] == []


async def test_only_the_network_adopts_and_a_version_is_adopted_once(api):
    assert (
        await api.post("/v1/network/protocols", json=adoption(EVERY_FOUR_WEEKS, "2027-02-01"), headers=PRACTICE)
    ).status_code == 403
    first = await api.post("/v1/network/protocols", json=adoption(EVERY_FOUR_WEEKS, "2027-02-01"), headers=NETWORK)
    assert first.status_code == 201, first.text
    assert first.json()["adopted_by"] == "regio-west" and first.json()["values"]["evaluation_interval_days"] == 28
    again = await api.post("/v1/network/protocols", json=adoption(EVERY_FOUR_WEEKS, "2027-03-01"), headers=NETWORK)
    assert again.status_code == 422 and "protocol.version" in again.text and "adopted before" in again.text


async def test_the_protocol_in_force_changes_on_its_effective_date_and_the_history_keeps_every_version(api, clock):
    before = (await api.get("/v1/network/protocols", headers=PRACTICE)).json()
    assert (
        before["in_force"]["version"] == "richtlijn" and before["in_force"]["values"]["evaluation_interval_days"] == 21
    )
    await api.post("/v1/network/protocols", json=adoption(EVERY_FOUR_WEEKS, "2027-02-01"), headers=NETWORK)
    second = {"version": "rug-2027.2", "values": {"evaluation_interval_days": 14}}
    await api.post("/v1/network/protocols", json=adoption(second, "2027-04-01"), headers=NETWORK)
    assert (await api.get("/v1/network/protocols", headers=NETWORK)).json()["in_force"]["version"] == "richtlijn"
    clock.set(datetime(2027, 2, 1, 0, 30, tzinfo=UTC))
    assert (await api.get("/v1/network/protocols", headers=NETWORK)).json()["in_force"]["version"] == "rug-2027.1"
    clock.set(datetime(2027, 4, 2, 12, 0, tzinfo=UTC))
    read = (await api.get("/v1/network/protocols", headers=NETWORK)).json()
    assert read["in_force"]["version"] == "rug-2027.2"
    assert [(p["version"], p["effective_from"]) for p in read["adopted"]] == [
        ("rug-2027.1", "2027-02-01"),
        ("rug-2027.2", "2027-04-01"),
    ]


async def test_decisions_follow_the_protocol_in_force_on_their_day_and_record_both_versions(api, pool, clock):
    await api.post("/v1/network/protocols", json=adoption(EVERY_FOUR_WEEKS, "2027-02-01"), headers=NETWORK)
    spec = {"minute": 0, "onset_days": 120, "deviating": True, "radicular": False, "start_after": 2}
    spec |= {"evaluations": [], "baseline": 4, "closed_after": None}
    for referred, protocol_version, interval in ((10, None, 21), (26, "rug-2027.1", 28)):  # 20 Jan, 5 Feb
        episode = str(uuid.uuid4())
        timeline = timeline_of([(episode, {**spec, "referred": referred}, 0, NOW.date())])
        await record(pool, clock, timeline, timers=False)
        async with pool.acquire() as conn:
            events = await STORE.read_stream(conn, episode)
        assert {e.protocol_version for e in events} == {protocol_version}
        assert {e.guideline_version for e in events} == {"kngf-lrp-2003"}
        assert {e.envelope().protocolversion for e in events} == {protocol_version}
        [agreed] = [p for *_, p in timeline if isinstance(p, TreatmentPlanAgreed)]
        first_planned = [
            p
            for p in (e.payload(REGISTRY) for e in events)
            if isinstance(p, EvaluationScheduled) and p.evaluation_number == 1
        ]
        assert first_planned[-1].due_at.date() - agreed.start_date == timedelta(days=interval)


# ---- what if ---------------------------------------------------------------------------------------------------


def what_if_body(draft: dict, start: str = "2027-01-01", end: str = "2027-02-01") -> dict:
    return {"draft": draft, "from": start, "to": end}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (what_if_body({"version": "d"}, "2027-01-05"), "must be the first day of a month"),
        (what_if_body({"version": "d"}, "2027-02-01", "2027-01-01"), "to: must lie 1 to 24 months after from"),
        (what_if_body({"version": "d", "values": {"evaluation_interval_days": 70}}), "less than or equal to 42"),
        (what_if_body({"version": "d", "guideline_version": "kngf-lrp-2099"}), "unknown rule version"),
    ],
)
async def test_a_what_if_outside_the_rules_is_refused_with_the_reason(api, body, reason):
    answer = await api.post("/v1/network/protocols/what-if", json=body, headers=NETWORK)
    assert answer.status_code == 422 and reason in answer.text, answer.text


async def test_the_protocol_in_force_as_a_draft_changes_nothing(api, pool, clock):
    await record_cohort(pool, clock, {0: 12})
    answer = (
        await api.post("/v1/network/protocols/what-if", json=what_if_body({"version": "same"}), headers=NETWORK)
    ).json()
    [own] = answer["practices"]
    assert own["practice_agb"] == OWN and own["episodes"] in (10, 15)
    assert own["episodes_changed"] == 0 and own["escalations_added"] == own["escalations_removed"] == 0
    assert answer["episodes"] == []


async def test_four_weekly_evaluations_the_network_sees_rounded_counts_a_practice_its_own_episodes(api, pool, clock):
    practices = await record_cohort(pool, clock, {0: 12, 1: 3})
    draft = what_if_body({"version": "vier-weken", "values": {"evaluation_interval_days": 28}})
    network = (await api.post("/v1/network/protocols/what-if", json=draft, headers=NETWORK)).json()
    assert network["episodes"] == []  # the network sees counts, never an episode
    for figures in [*network["practices"], network["total"]]:
        assert all(value % 5 == 0 for key, value in figures.items() if key != "practice_agb")
    by_practice = {p["practice_agb"]: p for p in network["practices"]}
    assert by_practice[OWN]["episodes"] in (10, 15) and by_practice[OWN]["episodes_with_evaluations_moved"] in (10, 15)
    assert set(by_practice) <= {OWN, OTHER}  # the other practice's 3 episodes: 0 or 5, never 3
    assert network["total"]["episodes"] == sum(p["episodes"] for p in network["practices"])

    practice = dev_headers("practice", OWN, user="fysio")
    own = (await api.post("/v1/network/protocols/what-if", json=draft, headers=practice)).json()
    assert [p["practice_agb"] for p in own["practices"]] == [OWN]
    assert len(own["episodes"]) == 12 and {e["episode_id"] for e in own["episodes"]} <= {
        e for e, agb in practices.items() if agb == OWN
    }
    for episode in own["episodes"]:
        [moved, *_] = episode["evaluations_moved"]
        assert moved["evaluation_number"] == 1
        due_before, due_after = (datetime.fromisoformat(moved[k]) for k in ("due_before", "due_after"))
        assert due_after - due_before == timedelta(days=7)


async def test_a_large_what_if_re_decides_in_processes_beside_the_event_loop_with_the_same_answer(
    pool, clock, infrastructure
):
    """More than one chunk goes to a process per core (spawned), each reading its chunks itself; the answer is the
    one a single thread gives: the network's counts (and no episode), a practice's counts and its own episodes."""
    practices = await record_cohort(pool, clock, {0: 12, 1: 3})
    store = PathwayStore(pool, STORE)
    address = DatabaseAddress(infrastructure.database_url, await pool.fetchval("SELECT current_schema()"))
    draft = Protocol(version="vier-weken", values=ProtocolValues(evaluation_interval_days=28))
    network = Caller(user="coordinator", role=Role.NETWORK, org="regio-west")
    period = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))
    seen: list[tuple[int, int]] = []
    in_processes = await what_if(
        store, address, network, draft, *period, clock, lambda *p: seen.append(p), chunk_size=4
    )
    in_a_thread = await what_if(store, address, network, draft, *period, clock)
    assert seen == [(4, 15), (8, 15), (12, 15), (15, 15)]
    assert in_processes.episodes == in_a_thread.episodes == 15
    assert in_processes.counts == in_a_thread.counts
    assert sum(c.episodes_changed for c in in_a_thread.counts.values()) == 15
    assert in_processes.differences == in_a_thread.differences == []  # the network sees counts only

    practice = Caller(user="fysio", role=Role.PRACTICE, org=OWN)
    own_in_processes = await what_if(store, address, practice, draft, *period, clock, chunk_size=5)
    own_in_a_thread = await what_if(store, address, practice, draft, *period, clock)
    assert (
        own_in_processes.counts
        == own_in_a_thread.counts
        == {cell: counts for cell, counts in in_a_thread.counts.items() if cell[0] == OWN}
    )
    own = [d.episode_id for d in own_in_a_thread.differences]
    assert [d.episode_id for d in own_in_processes.differences] == own
    assert sorted(own) == sorted(e for e, agb in practices.items() if agb == OWN) and len(own) == 12


async def test_a_worker_that_cannot_reach_the_database_fails_the_what_if_as_the_database_being_away(pool, clock):
    """The workers read their own chunks: one that finds no database raises what the service answers 503 to (an
    OSError), not a broken pool, and the chunks not yet begun are dropped."""
    await record_cohort(pool, clock, {0: 6})
    nowhere = DatabaseAddress("postgresql://postgres@127.0.0.1:1/nowhere", "pathway")
    network = Caller(user="coordinator", role=Role.NETWORK, org="regio-west")
    draft = Protocol(version="vier-weken", values=ProtocolValues(evaluation_interval_days=28))
    period = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))
    with pytest.raises(ConnectionError, match="database"):
        await what_if(PathwayStore(pool, STORE), nowhere, network, draft, *period, clock, chunk_size=2)
