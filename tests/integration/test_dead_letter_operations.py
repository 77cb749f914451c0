"""An operator settles a consumer's dead letters over HTTP, on real Postgres: find them, read one as received,
re-drive after a fix (twice changes nothing), discard with a reason; every action kept with who and why."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from deploy.local import dev_headers
from shared.auth import DEVELOPMENT_SECRET
from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import BatchHandler, ConsumedEvent, IdempotentConsumer, Outcome
from shared.dead_letter_routes import consumer_operations_router
from shared.events import REGISTRY, new_envelope
from shared.events.intake import ReferralReceived, sample_referral
from shared.http import install_http_metrics, install_problem_handlers, operations_router
from shared.service import Runtime
from shared.settings import ServiceSettings
from shared.status_routes import status_router
from shared.store.event_store import EventStore
from shared.store.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STORE = EventStore("test", REGISTRY)
OPERATOR = dev_headers("operator", "ops", user="nadia")


class Handler:
    """Fails for the episodes in `broken` and the (episode, version)s in `poison` (a bug); what it handled is
    kept in its transaction, in order (`handled`), so a rolled-back batch leaves nothing."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.broken: set[str] = set()
        self.poison: set[tuple[str, int]] = set()

    async def __call__(self, events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
        for event in events:
            at = (event.envelope.subject, event.envelope.streamversion)
            if event.envelope.subject in self.broken or at in self.poison:
                raise RuntimeError(f"bug on {at[0]} version {at[1]}")
            await uow.conn.execute("INSERT INTO handled (subject, version) VALUES ($1, $2)", *at)

    async def handled(self) -> list[tuple[str, int]]:
        return [tuple(r) for r in await self.pool.fetch("SELECT subject, version FROM handled ORDER BY seq")]


async def metric(api: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The value of the sample `name` with `labels` as /metrics shows it now (0 when absent)."""
    text = (await api.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def record(episode: str, offset: int, version: int = 1) -> Record:
    envelope = new_envelope(
        sample_referral(),
        service="intake",
        subject=episode,
        stream_version=version,
        time=NOW,
        correlation_id=uuid.uuid4(),
    )
    return Record("intake.events", 0, offset, episode.encode(), envelope.to_json())


@pytest.fixture
async def system(store_pool: asyncpg.Pool) -> AsyncIterator[tuple[httpx.AsyncClient, Handler, IdempotentConsumer]]:
    await store_pool.execute("CREATE TABLE handled (seq serial PRIMARY KEY, subject text, version int)")
    handler = Handler(store_pool)
    consumer = IdempotentConsumer(
        "test",
        store_pool,
        STORE,
        REGISTRY,
        [BatchHandler(types=(ReferralReceived,), handle=handler)],
        ManualClock(NOW),
        retry_backoff_seconds=0.01,
    )
    app = FastAPI()
    app.state.jwt_secret = DEVELOPMENT_SECRET
    runtime = Runtime(ServiceSettings(service_name="test"), store_pool, STORE, ManualClock(NOW + timedelta(hours=1)))
    runtime.consumer = consumer
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_http_metrics(app)
    app.include_router(operations_router())
    app.include_router(consumer_operations_router())
    app.include_router(status_router())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client, handler, consumer


async def test_an_operator_finds_a_dead_letter_reads_it_as_received_and_redrives_it_after_the_fix(system):
    api, handler, consumer = system
    handler.broken = {"episode-bad"}
    assert await consumer.process(record("episode-good", 1)) is Outcome.HANDLED
    bad = record("episode-bad", 2)
    assert await consumer.process(bad) is Outcome.DEAD_LETTERED

    listed = (await api.get("/v1/consumer/dead-letters", headers=OPERATOR)).json()
    assert [(x["episode_id"], x["reason"], x["state"], x["attempts"]) for x in listed] == [
        ("episode-bad", "handler_failed", "open", 3)
    ]
    assert "bug on episode-bad version 1" in listed[0]["error"]
    letter_id = listed[0]["id"]
    by_episode = await api.get("/v1/consumer/dead-letters", params={"episode_id": "episode-good"}, headers=OPERATOR)
    assert by_episode.json() == []
    by_type = await api.get("/v1/consumer/dead-letters", params={"type": ReferralReceived.event_type}, headers=OPERATOR)
    assert [x["id"] for x in by_type.json()] == [letter_id]
    later = await api.get("/v1/consumer/dead-letters", params={"created_after": NOW.isoformat()}, headers=OPERATOR)
    assert [x["id"] for x in later.json()] == [letter_id]  # kept at the database's time, after NOW

    shown = (await api.get(f"/v1/consumer/dead-letters/{letter_id}", headers=OPERATOR)).json()
    assert (shown["record"]["encoding"], shown["record"]["value"]) == ("utf-8", (bad.value or b"").decode())
    assert shown["record"]["key"] == "episode-bad"
    assert (shown["topic"], shown["partition"], shown["offset"], shown["actions"]) == ("intake.events", 0, 2, [])

    still_broken = (
        await api.post("/v1/consumer/dead-letters/redrive", json={"ids": [letter_id]}, headers=OPERATOR)
    ).json()
    assert [(r["outcome"], r["state"]) for r in still_broken] == [("failed", "open")]
    assert "bug on episode-bad version 1" in still_broken[0]["error"]

    handler.broken = set()  # the fix is deployed
    fixed = (await api.post("/v1/consumer/dead-letters/redrive", json={"ids": [letter_id]}, headers=OPERATOR)).json()
    assert [(r["outcome"], r["state"]) for r in fixed] == [("handled", "redriven")]
    again = (await api.post("/v1/consumer/dead-letters/redrive", json={"ids": [letter_id]}, headers=OPERATOR)).json()
    assert [(r["outcome"], r["state"]) for r in again] == [("duplicate", "redriven")]
    assert await handler.handled() == [("episode-good", 1), ("episode-bad", 1)]  # once, however often re-driven

    assert (await api.get("/v1/consumer/dead-letters", headers=OPERATOR)).json() == []  # nothing open
    shown = (await api.get(f"/v1/consumer/dead-letters/{letter_id}", headers=OPERATOR)).json()
    assert shown["state"] == "redriven" and shown["settled_at"] is not None
    assert [(a["action"], a["outcome"], a["by"], a["org"]) for a in shown["actions"]] == [
        ("redrive", "failed", "nadia", "ops"),
        ("redrive", "handled", "nadia", "ops"),
        ("redrive", "duplicate", "nadia", "ops"),
    ]


async def test_a_dead_letter_is_discarded_only_with_a_reason_once_and_is_never_redriven_after(system):
    api, handler, consumer = system
    handler.broken = {"episode-bad"}
    assert await consumer.process(record("episode-bad", 7)) is Outcome.DEAD_LETTERED
    [letter] = (await api.get("/v1/consumer/dead-letters", headers=OPERATOR)).json()
    path = f"/v1/consumer/dead-letters/{letter['id']}/discard"

    no_reason = await api.post(path, json={"reason": "no"}, headers=OPERATOR)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    discarded = await api.post(path, json={"reason": "test referral sent by mistake"}, headers=OPERATOR)
    assert discarded.status_code == 200
    assert discarded.json()["state"] == "discarded"
    assert [(a["action"], a["reason"]) for a in discarded.json()["actions"]] == [
        ("discard", "test referral sent by mistake")
    ]
    twice = await api.post(path, json={"reason": "test referral sent by mistake"}, headers=OPERATOR)
    assert twice.status_code == 409 and "discarded" in twice.json()["detail"]

    handler.broken = set()
    refused = (
        await api.post("/v1/consumer/dead-letters/redrive", json={"ids": [letter["id"]]}, headers=OPERATOR)
    ).json()
    assert [(r["outcome"], r["state"]) for r in refused] == [("refused", "discarded")]
    assert await handler.handled() == []
    everything = await api.get("/v1/consumer/dead-letters", params={"state": "any"}, headers=OPERATOR)
    assert [x["state"] for x in everything.json()] == ["discarded"]


async def test_unknown_letters_are_a_404_and_only_an_operator_gets_in(system):
    api, _, _ = system
    missing = await api.get("/v1/consumer/dead-letters/999999", headers=OPERATOR)
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]
    redrive_missing = await api.post("/v1/consumer/dead-letters/redrive", json={"ids": [999999]}, headers=OPERATOR)
    assert redrive_missing.status_code == 404
    practice = dev_headers("practice", "04123456")
    assert (await api.get("/v1/consumer/dead-letters", headers=practice)).status_code == 403
    assert (await api.get("/v1/consumer/dead-letters")).status_code == 401


def episode(name: str, first_offset: int, versions: int) -> list[Record]:
    return [record(name, first_offset + v, v) for v in range(1, versions + 1)]


async def test_an_episode_waits_for_its_stuck_event_while_others_flow_and_the_redrive_releases_it_in_order(system):
    api, handler, consumer = system
    a, b = episode("episode-a", 0, 4), episode("episode-b", 100, 3)
    handler.poison = {("episode-a", 2)}
    interleaved = [a[0], b[0], a[1], b[1], a[2], a[3], b[2]]
    outcomes = await consumer.process_batch(interleaved)
    assert outcomes == [
        Outcome.HANDLED,
        Outcome.HANDLED,
        Outcome.DEAD_LETTERED,
        Outcome.HANDLED,
        Outcome.PARKED,
        Outcome.PARKED,
        Outcome.HANDLED,
    ]
    assert await handler.handled() == [("episode-a", 1), ("episode-b", 1), ("episode-b", 2), ("episode-b", 3)]
    later = record("episode-a", 9, 5)
    assert await consumer.process(later) is Outcome.PARKED  # a later batch of the episode waits too
    assert await consumer.process(record("episode-b", 200, 4)) is Outcome.HANDLED

    listed_before = await metric(
        api, "ruggengraat_http_requests_total", handler="/v1/consumer/dead-letters", method="GET", status="200"
    )
    [letter] = (await api.get("/v1/consumer/dead-letters", headers=OPERATOR)).json()
    parked = (await api.get("/v1/consumer/parked", headers=OPERATOR)).json()
    assert [(p["episode_id"], p["parked"], p["waiting_for"]) for p in parked] == [("episode-a", 3, [letter["id"]])]
    # What an operator's alert reads: one open dead letter, three events of one episode parked behind it.
    assert await metric(api, "ruggengraat_dead_letters_open", consumer="test") == 1
    assert await metric(api, "ruggengraat_dead_letter_oldest_open_age_seconds", consumer="test") > 0
    assert await metric(api, "ruggengraat_parked_events", consumer="test") == 3
    assert await metric(api, "ruggengraat_parked_episodes", consumer="test") == 1
    # What the operator's page reads of this service.
    status = (await api.get("/v1/operations/status", headers=OPERATOR)).json()
    assert (status["service"], status["relay_topic"], status["loops"], status["checks"]["postgres"]) == (
        "test",
        None,
        [],
        True,
    )
    waiting = {k: v for k, v in status["consumer"].items() if k != "oldest_open_seconds"}
    assert waiting == {"name": "test", "lag": None, "dead_letters_open": 1, "parked_episodes": 1, "parked_events": 3}
    assert status["consumer"]["oldest_open_seconds"] > 0
    assert (await api.get("/v1/operations/status", headers=dev_headers("network", "n"))).status_code == 403
    # Requests are counted per route template and status, by the instrumentation library.
    listed_after = await metric(
        api, "ruggengraat_http_requests_total", handler="/v1/consumer/dead-letters", method="GET", status="200"
    )
    assert listed_after == listed_before + 1

    handler.poison = set()
    [done] = (
        await api.post("/v1/consumer/dead-letters/redrive", json={"ids": [letter["id"]]}, headers=OPERATOR)
    ).json()
    assert (done["outcome"], done["released"]) == ("handled", 3)
    assert [at for at in await handler.handled() if at[0] == "episode-a"] == [("episode-a", v) for v in range(1, 6)]
    assert (await api.get("/v1/consumer/parked", headers=OPERATOR)).json() == []
    assert await metric(api, "ruggengraat_dead_letters_open", consumer="test") == 0
    assert await metric(api, "ruggengraat_parked_events", consumer="test") == 0
    assert await consumer.process(record("episode-a", 10, 6)) is Outcome.HANDLED  # it flows again
    assert await consumer.process_batch(a) == [Outcome.DUPLICATE] * 4  # and a redelivery changes nothing


async def test_discarding_the_stuck_event_releases_the_rest_and_a_release_stops_at_the_next_stuck_one(system):
    api, handler, consumer = system
    a = episode("episode-a", 0, 5)
    handler.poison = {("episode-a", 2), ("episode-a", 4)}
    for r in a:
        await consumer.process(r)
    assert await handler.handled() == [("episode-a", 1)]
    [first] = (await api.get("/v1/consumer/dead-letters", headers=OPERATOR)).json()

    discarded = await api.post(
        f"/v1/consumer/dead-letters/{first['id']}/discard",
        json={"reason": "entered twice, the other one counts"},
        headers=OPERATOR,
    )
    assert discarded.status_code == 200 and discarded.json()["released"] == 2  # 3 handled, 4 stuck again
    assert await handler.handled() == [("episode-a", 1), ("episode-a", 3)]
    [second] = (await api.get("/v1/consumer/dead-letters", headers=OPERATOR)).json()
    assert second["id"] != first["id"] and "bug on episode-a version 4" in second["error"]
    parked = (await api.get("/v1/consumer/parked", headers=OPERATOR)).json()
    assert [(p["episode_id"], p["parked"], p["waiting_for"]) for p in parked] == [("episode-a", 1, [second["id"]])]

    handler.poison = set()
    [done] = (
        await api.post("/v1/consumer/dead-letters/redrive", json={"ids": [second["id"]]}, headers=OPERATOR)
    ).json()
    assert (done["outcome"], done["released"]) == ("handled", 1)
    assert await handler.handled() == [("episode-a", v) for v in (1, 3, 4, 5)]
