"""Intake's commands on real Postgres, in process: how many statements each sends (every round trip costs the
service CPU), that a rejected command leaves nothing behind, and that commands racing on one patient still
take turns — the second decides on what the first wrote, a retry finds the first answer."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.intake import idempotency
from services.intake.domain import episode as rules
from services.intake.domain.commands import RecordMeasurement, TakeHistory
from services.intake.handlers import handle_episode_command, open_for_command
from services.intake.routes import episode_commands, patients, referrals
from services.intake.settings import IntakeSettings
from shared.access_log import Access, Action
from shared.auth import DEVELOPMENT_SECRET, Caller, Role
from shared.clock import ManualClock
from shared.db import create_pool
from shared.events import REGISTRY
from shared.http import install_problem_handlers
from shared.service import Runtime
from shared.store.event_store import EventStore
from shared.store.migrate import event_store_migrations, migrations_in
from shared.store.unit_of_work import UnitOfWork
from tests.conftest import eventually, schema_pool
from tests.e2e.test_intake_recording import ASSESSMENT, HISTORY
from tests.support import OTHER_PRACTICE_AGB, PRACTICE_AGB, patient, practice, referrer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STORE = EventStore("intake", REGISTRY)
PRACTICE = Caller("fysio-test", Role.PRACTICE, PRACTICE_AGB)
MEASUREMENT = {"occasion": "intake", "measurement": {"taken_on": "2026-11-23", "nprs": 6}}


class RecordingPool:
    """The pool the routes use, recording every statement sent on the connections it hands out."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements: list[str] = []

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn:
            with conn.query_logger(lambda logged: self.statements.append(logged.query)):
                yield conn

    async def sent_by(self, request) -> tuple[httpx.Response, list[str]]:
        """The response to `request` (a coroutine) and the statements it sent, in order."""
        self.statements.clear()
        response = await request
        await asyncio.sleep(0)  # the query logger reports through call_soon
        return response, list(self.statements)


@pytest.fixture
async def pool(infrastructure) -> AsyncIterator[asyncpg.Pool]:
    migrations = event_store_migrations() + migrations_in("services.intake")
    async with schema_pool(infrastructure.database_url, migrations, prefix="ik") as pool:
        yield pool


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def recording(infrastructure, pool) -> AsyncIterator[RecordingPool]:
    """One connection for the routes, so that asyncpg's one-time type lookups happen on it once and for all."""
    async with pool.acquire() as conn:
        schema = await conn.fetchval("SELECT current_schema()")
    routes_pool = await create_pool(infrastructure.database_url, schema, min_size=1, max_size=1)
    try:
        yield RecordingPool(routes_pool)
    finally:
        await routes_pool.close()


@pytest.fixture
async def intake(recording, clock) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.jwt_secret = DEVELOPMENT_SECRET
    app.state.runtime = Runtime(IntakeSettings(), recording, STORE, clock)  # type: ignore[arg-type]
    install_problem_handlers(app)
    for router in (referrals.router, episode_commands.router, patients.router):
        app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield client


def referral(referral_id: str, seed: int = 1) -> dict:
    return {
        "referral_id": referral_id,
        "route": "gp_referral",
        "practice_agb": PRACTICE_AGB,
        "referrer_agb": "01234567",
        "referred_on": "2026-11-20",
        "patient": patient(seed),
        "request_for_help": "Weer wandelen",
    }


async def open_episode(intake: httpx.AsyncClient, referral_id: str = "RT-1") -> uuid.UUID:
    created = await intake.post("/v1/referrals", json=referral(referral_id), headers=referrer())
    assert created.status_code == 201, created.text
    return uuid.UUID(created.json()["episode_id"])


async def access_log(pool: asyncpg.Pool, episode: uuid.UUID) -> list[tuple]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT at, service, actor_user, actor_role, actor_org, client, action, route, episode_id, patient_id"
            " FROM access_log WHERE episode_id = $1 ORDER BY id",
            episode,
        )
    return [tuple(r) for r in rows]


async def recorded(pool: asyncpg.Pool, episode: uuid.UUID) -> tuple:
    """What a command may change: the access log, the patient's last treatment, the episode's events."""
    async with pool.acquire() as conn:
        treated = await conn.fetchval(
            "SELECT last_treatment_at FROM patients JOIN patient_episodes USING (patient_id) WHERE episode_id = $1",
            episode,
        )
        events = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", str(episode))
    return await access_log(pool, episode), treated, events


def is_transaction(statements: list[str]) -> bool:
    return statements[0].startswith("BEGIN") and statements[-1].startswith("COMMIT")


async def test_an_episode_command_is_begin_one_statement_the_append_and_commit(intake, recording, pool):
    episode = await open_episode(intake)
    patient_id = (await access_log(pool, episode))[0][-1]
    base = f"/v1/episodes/{episode}"

    history, sent = await recording.sent_by(intake.post(f"{base}/history", json=HISTORY, headers=practice()))
    assert history.status_code == 201 and history.headers["etag"] == '"2"'
    assert len(sent) == 4 and is_transaction(sent), sent  # a separate stream read or log row would be a fifth
    assert "INSERT INTO access_log" in sent[1] and "INSERT INTO events" in sent[2]
    # the row is the one log_access writes: who, from where, what, which episode and patient
    assert (await access_log(pool, episode))[-1] == (
        NOW,
        "intake",
        "fysio-test",
        "practice",
        PRACTICE_AGB,
        "127.0.0.1",
        "update",
        "POST history",
        episode,
        patient_id,
    )

    nothing_new = {"consent": "objected", "on": "2026-11-24"}
    assert (await intake.post(f"{base}/report-consent", json=nothing_new, headers=practice())).status_code == 201
    again, sent = await recording.sent_by(intake.post(f"{base}/report-consent", json=nothing_new, headers=practice()))
    assert again.status_code == 200 and len(sent) == 3 and is_transaction(sent)  # nothing to append

    keyed = {**practice(), "Idempotency-Key": "m-1"}
    first, sent = await recording.sent_by(intake.post(f"{base}/measurements", json=MEASUREMENT, headers=keyed))
    assert first.status_code == 201 and len(sent) == 5 and is_transaction(sent)  # + storing the answer
    logged = len(await access_log(pool, episode))
    retry, sent = await recording.sent_by(intake.post(f"{base}/measurements", json=MEASUREMENT, headers=keyed))
    assert retry.status_code == 201 and retry.json() == first.json() and retry.headers["etag"] == '"4"'
    assert len(sent) == 3 and is_transaction(sent)
    assert len(await access_log(pool, episode)) == logged  # a replay reads nothing new: it logged the first time
    other = {**MEASUREMENT, "measurement": {"taken_on": "2026-11-23", "nprs": 2}}
    reused = await intake.post(f"{base}/measurements", json=other, headers=keyed)
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(await access_log(pool, episode)) == logged
    # the same key and body for another episode is another request, not a replay of this one
    elsewhere = await open_episode(intake, "RT-1b")
    crossed = await intake.post(f"/v1/episodes/{elsewhere}/measurements", json=MEASUREMENT, headers=keyed)
    assert crossed.status_code == 422 and crossed.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_a_referral_enrols_reads_and_logs_in_one_statement_first_create_then_read(intake, recording, pool):
    await open_episode(intake, "RT-2-warm-up")
    body = referral("RT-2", seed=2)
    created, sent = await recording.sent_by(intake.post("/v1/referrals", json=body, headers=referrer()))
    assert created.status_code == 201 and len(sent) == 4 and is_transaction(sent), sent
    again, sent = await recording.sent_by(intake.post("/v1/referrals", json=body, headers=referrer()))
    assert again.status_code == 200 and again.json() == created.json()
    assert len(sent) == 3 and is_transaction(sent)  # the same referral: nothing to append

    episode, patient_id = uuid.UUID(created.json()["episode_id"]), uuid.UUID(created.json()["patient_id"])
    rows = await access_log(pool, episode)
    assert [r[1:] for r in rows] == [
        ("intake", "gp-test", "referrer", "01234567", "127.0.0.1", action, "POST /v1/referrals", episode, patient_id)
        for action in ("create", "read")
    ]

    changed = await intake.post("/v1/referrals", json={**body, "referred_on": "2026-11-21"}, headers=referrer())
    assert changed.status_code == 422 and changed.json()["errors"][0]["field"] == "referral_id"
    assert await access_log(pool, episode) == rows
    erased = await intake.post(f"/v1/patients/{patient_id}/erasure", headers=practice())
    assert erased.status_code == 200
    logged = await access_log(pool, episode)
    refused = await intake.post("/v1/referrals", json=body, headers=referrer())
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "patient.bsn"
    assert await access_log(pool, episode) == logged


async def test_a_rejected_command_leaves_no_log_row_no_treatment_date_and_no_event(intake, pool, clock):
    episode = await open_episode(intake, "RT-3")
    base = f"/v1/episodes/{episode}"
    closing = {"closed_on": "2026-12-15", "reason": "goals_met"}
    assert (await intake.post(f"{base}/closing", json=closing, headers=practice())).status_code == 201
    before = await recorded(pool, episode)
    clock.advance(timedelta(days=30))  # a command that got through would move the last treatment

    late = await intake.post(f"{base}/measurements", json=MEASUREMENT, headers=practice())
    assert late.status_code == 422 and "closed" in late.json()["detail"]
    stale = await intake.post(f"{base}/history", json=HISTORY, headers={**practice(), "If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    foreign = await intake.post(f"{base}/measurements", json=MEASUREMENT, headers=practice(OTHER_PRACTICE_AGB))
    assert foreign.status_code == 404
    unknown = await intake.post(f"/v1/episodes/{uuid.uuid4()}/measurements", json=MEASUREMENT, headers=practice())
    assert unknown.status_code == 404
    badly_keyed = {**practice(), "Idempotency-Key": "k" * 201}
    assert (await intake.post(f"{base}/closing", json=closing, headers=badly_keyed)).status_code == 422
    assert await recorded(pool, episode) == before


@contextlib.asynccontextmanager
async def first_command_holding_the_patient(pool: asyncpg.Pool, episode: uuid.UUID, path: str, decide, key=None):
    """A command on `episode` that has written and holds its transaction open until the block ends."""
    async with pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, STORE, ManualClock(NOW))
        access = Access("intake", Action.UPDATE, f"POST {path}", episode)
        opened = await open_for_command(uow, PRACTICE, access, NOW, key)
        assert opened is not None

        async def produce():
            result = await handle_episode_command(uow, opened, episode, None, decide)
            return 201, {"episode_id": str(episode), "version": result.version, "appended": result.appended}

        yield await idempotency.replay_or_produce(
            conn,
            PRACTICE,
            key,
            episode_commands.keyed_route(f"POST {path}", episode),
            command_of(path),
            NOW,
            produce,
            opened.replay,
        )


def command_of(path: str):
    return {"history": TakeHistory.model_validate(HISTORY), "measurements": RecordMeasurement(**MEASUREMENT)}[path]


async def waiting_for_a_lock(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )


async def test_a_command_that_waited_for_another_on_the_patient_decides_on_what_that_one_wrote(intake, pool):
    episode = await open_episode(intake, "RT-4")
    history = command_of("history")

    def take_history(e, seal):
        return rules.take_history(e, history, seal("notes", history.notes))

    async with first_command_holding_the_patient(pool, episode, "history", take_history):
        # no If-Match: the assessment must follow the history, whichever commits first
        assessment = asyncio.create_task(
            intake.post(f"/v1/episodes/{episode}/assessment", json=ASSESSMENT, headers=practice())
        )
        await eventually(lambda: waiting_for_a_lock(pool), timeout=10)
    response = await assessment
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 3
    actions = [r[6] for r in await access_log(pool, episode)]
    assert actions == ["create", "update", "update"]  # the waiting command logged once


async def test_a_retry_that_waited_for_the_first_request_gets_its_answer(intake, pool):
    episode = await open_episode(intake, "RT-5")
    measurement = command_of("measurements")

    async with first_command_holding_the_patient(
        pool, episode, "measurements", lambda e, seal: rules.record_measurement(e, measurement), key="m-race"
    ) as (_, first):
        retry = asyncio.create_task(
            intake.post(
                f"/v1/episodes/{episode}/measurements",
                json=MEASUREMENT,
                headers={**practice(), "Idempotency-Key": "m-race"},
            )
        )
        await eventually(lambda: waiting_for_a_lock(pool), timeout=10)
    response = await retry
    assert response.status_code == 201 and response.json() == first
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", str(episode)) == 2
