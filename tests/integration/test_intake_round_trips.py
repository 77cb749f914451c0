"""Intake's commands on real Postgres, in process: how many statements each sends (every round trip costs the
service CPU), that a rejected command leaves nothing behind, and that commands racing on one episode still
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

from services.intake.domain import episode as rules
from services.intake.domain import idempotency
from services.intake.domain.activity_labels import NO_ACTIVITIES
from services.intake.domain.commands import RecordMeasurement, RecordReportConsent, TakeHistory
from services.intake.handlers import (
    handle_episode_command,
    handle_erasure,
    handle_receive_referral,
    open_for_command,
    record_command,
)
from services.intake.keys.sealing import bsn_lookup
from services.intake.routes import episode_commands, patients, referrals
from services.intake.settings import IntakeSettings
from shared.access_log import Access, Action
from shared.auth import DEVELOPMENT_SECRET, Caller, Role
from shared.clock import ManualClock
from shared.db import create_pool
from shared.events import REGISTRY
from shared.events.intake import HistoryTaken, MeasurementRecorded, ReferralReceived, ReportObjectionRecorded
from shared.http import install_problem_handlers
from shared.service import Runtime
from shared.store.event_store import EventStore
from shared.store.migrate import event_store_migrations, migrations_in
from shared.store.unit_of_work import UnitOfWork
from tests.conftest import eventually, schema_pool
from tests.e2e.test_intake_recording import HISTORY
from tests.support import OTHER_PRACTICE_AGB, OTHER_REFERRER_AGB, PRACTICE_AGB, LoggedPool, patient, practice, referrer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STORE = EventStore("intake", REGISTRY)
KEYS = IntakeSettings().key_encryption()
PRACTICE = Caller("fysio-test", Role.PRACTICE, PRACTICE_AGB)
MEASUREMENT = {"occasion": "intake", "measurement": {"taken_on": "2026-11-23", "nprs": 6}}


@pytest.fixture
async def pool(infrastructure) -> AsyncIterator[asyncpg.Pool]:
    migrations = event_store_migrations() + migrations_in("services.intake")
    async with schema_pool(infrastructure.database_url, migrations, prefix="ik") as pool:
        yield pool


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def recording(infrastructure, pool) -> AsyncIterator[LoggedPool]:
    """One connection for the routes, so that asyncpg's one-time type lookups happen on it once and for all."""
    async with pool.acquire() as conn:
        schema = await conn.fetchval("SELECT current_schema()")
    routes_pool = await create_pool(infrastructure.database_url, schema, min_size=1, max_size=1)
    try:
        yield LoggedPool(routes_pool)
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


def writes_nothing(statement: str) -> bool:
    return not any(verb in statement for verb in ("INSERT", "UPDATE", "DELETE", "FOR UPDATE", "FOR SHARE"))


async def test_an_episode_command_is_one_read_and_one_write(intake, recording, pool, clock):
    episode = await open_episode(intake)
    patient_id = (await access_log(pool, episode))[0][-1]
    base = f"/v1/episodes/{episode}"

    history, sent = await recording.sent_by(intake.post(f"{base}/history", json=HISTORY, headers=practice()))
    assert history.status_code == 201 and history.headers["etag"] == '"2"'
    assert len(sent) == 2, sent  # no BEGIN, no COMMIT: each statement commits on its own
    read, write = sent
    assert writes_nothing(read) and "JOIN events" in read and "FROM idempotency_keys" in read
    assert all(part in write for part in ("INSERT INTO events", "INSERT INTO access_log", "UPDATE patients"))
    assert "idempotency_keys" not in write  # no key, no answer to store
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
    logged = len(await access_log(pool, episode))
    clock.advance(timedelta(days=1))
    again, sent = await recording.sent_by(intake.post(f"{base}/report-consent", json=nothing_new, headers=practice()))
    assert again.status_code == 200 and again.headers["etag"] == '"3"' and len(sent) == 2, sent
    # nothing to append, but the access is logged and the patient treated, as for any command that got through
    rows, treated, events = await recorded(pool, episode)
    assert (len(rows), treated, events) == (logged + 1, NOW + timedelta(days=1), 3)

    keyed = {**practice(), "Idempotency-Key": "m-1"}
    first, sent = await recording.sent_by(intake.post(f"{base}/measurements", json=MEASUREMENT, headers=keyed))
    assert first.status_code == 201 and len(sent) == 2, sent
    assert "INSERT INTO idempotency_keys" in sent[1]  # the answer is stored by the command's one write
    before = await recorded(pool, episode)
    clock.advance(timedelta(days=1))
    retry, sent = await recording.sent_by(intake.post(f"{base}/measurements", json=MEASUREMENT, headers=keyed))
    assert retry.status_code == 201 and retry.json() == first.json() and retry.headers["etag"] == '"4"'
    assert len(sent) == 1 and writes_nothing(sent[0]), sent  # the read finds the answer
    # A replay writes nothing: it reads nothing new (the access was logged the first time), and the treatment it
    # answers for was recorded, with the date retention counts from, by the first request.
    assert await recorded(pool, episode) == before
    other = {**MEASUREMENT, "measurement": {"taken_on": "2026-11-23", "nprs": 2}}
    reused, sent = await recording.sent_by(intake.post(f"{base}/measurements", json=other, headers=keyed))
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(sent) == 1 and await recorded(pool, episode) == before
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
    patients = await pool.fetchval("SELECT count(*) FROM patients")
    # The same referral again finds no patient by its BSN any more (the lookup went with the key), so it is
    # another patient's: refused as a referral id received before with other content, and nothing is kept.
    refused = await intake.post("/v1/referrals", json=body, headers=referrer())
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "referral_id"
    assert await access_log(pool, episode) == logged
    assert await pool.fetchval("SELECT count(*) FROM patients") == patients


async def test_after_erasure_the_same_bsn_is_a_new_patient_and_nothing_links_it_to_the_erased_one(intake, pool):
    first = (await intake.post("/v1/referrals", json=referral("RT-9", seed=9), headers=referrer())).json()
    old_patient, old_episode = uuid.UUID(first["patient_id"]), first["episode_id"]
    assert (await intake.post(f"/v1/patients/{old_patient}/erasure", headers=practice())).status_code == 200

    # any GP, any referral id: answered exactly as a first referral is, with a fresh pseudonym
    other_gp = {**referral("RT-9-later", seed=9), "referrer_agb": OTHER_REFERRER_AGB}
    again = await intake.post("/v1/referrals", json=other_gp, headers=referrer(OTHER_REFERRER_AGB))
    assert again.status_code == 201, again.text
    new_patient = uuid.UUID(again.json()["patient_id"])
    assert new_patient != old_patient
    view = (await intake.get(f"/v1/episodes/{again.json()['episode_id']}", headers=practice())).json()
    assert view["personal"]["patient"]["bsn"] == patient(9)["bsn"] and view["personal_data_erased"] is False
    old_view = (await intake.get(f"/v1/episodes/{old_episode}", headers=practice())).json()
    assert old_view["personal"] is None and old_view["personal_data_erased"] is True

    async with pool.acquire() as conn:
        lookup = bsn_lookup(IntakeSettings().pseudonym_secret, PRACTICE_AGB, patient(9)["bsn"])
        # the BSN leads to the new patient only; the erased one has no key and no lookup left
        assert await conn.fetchval("SELECT patient_id FROM patient_keys WHERE lookup = $1", lookup) == new_patient
        assert await conn.fetchval("SELECT count(*) FROM patient_keys WHERE patient_id = $1", old_patient) == 0
        # what intake keeps of the erased patient: a random pseudonym, the erasure, the episodes and who may see
        # them — no column derived from the BSN (the pseudonym is not the lookup)
        kept = await conn.fetchrow("SELECT * FROM patients WHERE patient_id = $1", old_patient)
        assert kept["erased_at"] is not None and kept["unwrapped_key"] is None and old_patient != lookup
        assert (await conn.fetchrow("SELECT * FROM patients WHERE patient_id = $1", new_patient))["erased_at"] is None


async def test_a_rejected_command_leaves_no_log_row_no_treatment_date_and_no_event(intake, recording, pool, clock):
    episode = await open_episode(intake, "RT-3")
    base = f"/v1/episodes/{episode}"
    closing = {"closed_on": "2026-12-15", "reason": "goals_met"}
    assert (await intake.post(f"{base}/closing", json=closing, headers=practice())).status_code == 201
    before = await recorded(pool, episode)
    clock.advance(timedelta(days=30))  # a command that got through would move the last treatment

    async def rejected(path: str, headers: dict, body: dict = MEASUREMENT, episode_id=episode) -> httpx.Response:
        url = f"/v1/episodes/{episode_id}/{path}"
        response, sent = await recording.sent_by(intake.post(url, json=body, headers=headers))
        assert len(sent) == 1 and writes_nothing(sent[0]), sent  # the read, and nothing after it
        return response

    late = await rejected("measurements", practice())
    assert late.status_code == 422 and "closed" in late.json()["detail"]
    stale = await rejected("history", {**practice(), "If-Match": '"1"'}, HISTORY)
    assert stale.status_code == 412 and stale.json()["current_version"] == 2 and stale.headers["etag"] == '"2"'
    foreign = await rejected("measurements", practice(OTHER_PRACTICE_AGB))
    assert foreign.status_code == 404
    unknown = await rejected("measurements", practice(), episode_id=uuid.uuid4())
    assert unknown.status_code == 404
    badly_keyed = await rejected("closing", {**practice(), "Idempotency-Key": "k" * 201}, closing)
    assert badly_keyed.status_code == 422 and badly_keyed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await recorded(pool, episode) == before


@contextlib.asynccontextmanager
async def first_command_uncommitted(pool: asyncpg.Pool, episode: uuid.UUID, path: str, decide, key=None):
    """A command on `episode` that has read, decided and written (its one write statement), in a transaction
    held open until the block ends; yields its answer."""
    async with pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, STORE, ManualClock(NOW))
        opened = await open_for_command(uow, KEYS, PRACTICE, episode, key)
        assert opened is not None and opened.replay is None
        decided = handle_episode_command(uow, opened, episode, None, decide)
        result = decided.result
        answer = {"episode_id": str(episode), "version": result.version, "appended": result.appended}
        code = 201 if result.appended else 200
        route = episode_commands.keyed_route(f"POST {path}", episode)
        keyed = idempotency.keyed(PRACTICE, key, route, command_of(path))
        access = Access("intake", Action.UPDATE, f"POST {path}", episode)
        stored = keyed.answer(code, answer, NOW) if keyed is not None else None
        assert await record_command(uow, opened, decided, PRACTICE, access, NOW, stored)
        yield answer


CONSENT = {"consent": "objected", "on": "2026-11-24"}


def command_of(path: str):
    return {
        "history": TakeHistory.model_validate(HISTORY),
        "measurements": RecordMeasurement(**MEASUREMENT),
        "report-consent": RecordReportConsent(**CONSENT),
    }[path]


async def waiting_for_a_lock(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )


async def raced(pool: asyncpg.Pool, recording: LoggedPool, request, first) -> tuple[httpx.Response, list[str], dict]:
    """`request` (a coroutine) sent while `first` (an async context manager) holds what it wrote uncommitted: the
    request reads the episode without it, decides, and its write waits for `first`, which then commits. The
    response, the statements the request sent, and what `first` yielded."""
    async with first as answer:
        response = asyncio.create_task(recording.sent_by(request))
        await eventually(lambda: waiting_for_a_lock(pool), timeout=10)
    return *await response, answer


def take_history(episode, seal):
    history = command_of("history")
    return rules.take_history(episode, history, seal("notes", history.notes))


async def test_a_command_that_raced_another_decides_again_on_what_that_one_wrote(intake, recording, pool):
    episode = await open_episode(intake, "RT-4")
    history = first_command_uncommitted(pool, episode, "history", take_history)
    # no If-Match: the measurement goes on top of the history, whichever gets through first
    measurement = intake.post(f"/v1/episodes/{episode}/measurements", json=MEASUREMENT, headers=practice())
    response, sent, _ = await raced(pool, recording, measurement, history)
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 3 and response.json()["appended"] == [MeasurementRecorded.event_type]
    assert len(sent) == 4, sent  # read, write (lost to the history), read again, write
    actions = [r[6] for r in await access_log(pool, episode)]
    assert actions == ["create", "update", "update"]  # the lost write logged nothing
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version", str(episode)
        )
    assert [r[0] for r in rows] == [e.event_type for e in (ReferralReceived, HistoryTaken, MeasurementRecorded)]


async def test_a_command_that_raced_the_same_decision_finds_nothing_new_to_append(intake, recording, pool):
    episode = await open_episode(intake, "RT-4a")
    consent = command_of("report-consent")
    first = first_command_uncommitted(
        pool, episode, "report-consent", lambda e, s: rules.record_report_consent(e, consent)
    )
    again = intake.post(f"/v1/episodes/{episode}/report-consent", json=CONSENT, headers=practice())
    response, sent, answer = await raced(pool, recording, again, first)
    # decided on version 1 it would record the objection; decided again on what the first wrote, it is not new
    assert answer["appended"] == [ReportObjectionRecorded.event_type]
    assert response.status_code == 200 and response.json()["appended"] == [] and response.json()["version"] == 2
    assert len(sent) == 4, sent
    _, _, events = await recorded(pool, episode)
    assert events == 2


async def test_a_command_with_if_match_that_raced_another_fails_its_precondition(intake, recording, pool):
    episode = await open_episode(intake, "RT-4b")
    before = await recorded(pool, episode)
    history = first_command_uncommitted(pool, episode, "history", take_history)
    stale = {**practice(), "If-Match": '"1"'}
    measurement = intake.post(f"/v1/episodes/{episode}/measurements", json=MEASUREMENT, headers=stale)
    response, sent, _ = await raced(pool, recording, measurement, history)
    assert response.status_code == 412 and response.json()["current_version"] == 2
    assert len(sent) == 3, sent  # read, write (lost), read: the episode moved on from the version in If-Match
    rows, _, events = await recorded(pool, episode)
    assert (len(rows), events) == (len(before[0]) + 1, 2)  # the history's row and event, nothing of the other


async def keyed_retry_raced(
    intake: httpx.AsyncClient, pool, recording, episode: uuid.UUID, path: str, body: dict, rule, key: str
) -> tuple[httpx.Response, list[str], dict]:
    """A retry with Idempotency-Key `key` sent while the first request with that key holds its write
    uncommitted: what `raced` returns."""
    command = command_of(path)
    first = first_command_uncommitted(pool, episode, path, lambda e, seal: rule(e, command), key=key)
    keyed = {**practice(), "Idempotency-Key": key}
    retry = intake.post(f"/v1/episodes/{episode}/{path}", json=body, headers=keyed)
    return await raced(pool, recording, retry, first)


async def test_a_retry_that_raced_the_first_request_gets_its_answer(intake, recording, pool):
    episode = await open_episode(intake, "RT-5")
    response, sent, answer = await keyed_retry_raced(
        intake,
        pool,
        recording,
        episode,
        "measurements",
        MEASUREMENT,
        lambda e, c: rules.record_measurement(e, c, NO_ACTIVITIES),
        "m-race",
    )
    assert response.status_code == 201 and response.json() == answer
    assert len(sent) == 3, sent  # read, write (lost on the stream's version), read: the stored answer
    _, _, events = await recorded(pool, episode)
    assert events == 2
    assert [r[6] for r in await access_log(pool, episode)] == ["create", "update"]  # the first request's


async def test_a_retry_that_raced_a_first_request_that_appended_nothing_gets_its_answer(intake, recording, pool):
    episode = await open_episode(intake, "RT-6")
    recorded_before = await intake.post(f"/v1/episodes/{episode}/report-consent", json=CONSENT, headers=practice())
    assert recorded_before.status_code == 201
    before = await recorded(pool, episode)
    response, sent, answer = await keyed_retry_raced(
        intake, pool, recording, episode, "report-consent", CONSENT, rules.record_report_consent, "c-race"
    )
    assert response.status_code == 200 and response.json() == answer and answer["appended"] == []
    assert len(sent) == 3, sent  # read, write (lost on the key: the stream did not move), read: the stored answer
    rows, _, events = await recorded(pool, episode)
    assert (len(rows), events) == (len(before[0]) + 1, before[2])  # the first request's log row, no event


async def test_a_command_that_raced_the_erasure_of_its_patient_keeps_no_free_text(intake, recording, pool):
    episode = await open_episode(intake, "RT-7")
    patient_id = (await access_log(pool, episode))[0][-1]

    @contextlib.asynccontextmanager
    async def erasure_uncommitted():
        async with pool.acquire() as conn, conn.transaction():
            yield await handle_erasure(UnitOfWork(conn, STORE, ManualClock(NOW)), patient_id, "fysio-test")

    history = intake.post(f"/v1/episodes/{episode}/history", json=HISTORY, headers=practice())
    response, sent, _ = await raced(pool, recording, history, erasure_uncommitted())
    # it sealed the notes with the key it read and lost to the erasure's event; read again, there is no key left
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "notes"
    assert len(sent) == 3, sent
    _, _, events = await recorded(pool, episode)
    assert events == 2  # the referral and the erasure


async def test_a_write_after_the_episode_moved_on_writes_nothing(intake, pool, clock):
    episode = await open_episode(intake, "RT-8")
    async with pool.acquire() as conn:
        uow = UnitOfWork(conn, STORE, clock)
        opened = await open_for_command(uow, KEYS, PRACTICE, episode, "h-late")
        assert opened is not None
        decided = handle_episode_command(uow, opened, episode, None, take_history)
        # another command gets through between this one's read and its write
        assert (
            await intake.post(f"/v1/episodes/{episode}/measurements", json=MEASUREMENT, headers=practice())
        ).is_success
        before = await recorded(pool, episode)
        clock.advance(timedelta(days=1))
        keyed = idempotency.keyed(PRACTICE, "h-late", "POST history", command_of("history"))
        assert keyed is not None
        answer = keyed.answer(201, {"version": decided.result.version}, clock.now())
        access = Access("intake", Action.UPDATE, "POST history", episode)
        # its version check fails: no event, no log row, no treatment date, no stored answer
        assert not await record_command(uow, opened, decided, PRACTICE, access, clock.now(), answer)
        assert await recorded(pool, episode) == before
        assert await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'h-late'") == 0


async def test_two_first_referrals_of_one_bsn_that_race_find_one_patient(intake, recording, pool):
    await open_episode(intake, "RT-10-warm-up")  # asyncpg's one-time type lookups
    gp = Caller("gp-test", Role.REFERRER, "01234567")

    @contextlib.asynccontextmanager
    async def first_referral_uncommitted():
        async with pool.acquire() as conn, conn.transaction():
            uow = UnitOfWork(conn, STORE, ManualClock(NOW))
            command = rules.ReceiveReferral.model_validate(referral("RT-10a", seed=10))
            settings = IntakeSettings()
            yield await handle_receive_referral(
                command, uow, settings.pseudonym_secret, KEYS, gp, "POST /v1/referrals", NOW
            )

    second = intake.post("/v1/referrals", json=referral("RT-10b", seed=10), headers=referrer())
    response, sent, first = await raced(pool, recording, second, first_referral_uncommitted())
    assert response.status_code == 201, response.text
    # its enrolment waited for the first one's key row and, its snapshot too old to see it, found no patient: it
    # wrote nothing and enrolled again, finding the patient the first one created
    assert uuid.UUID(response.json()["patient_id"]) == first.patient_id
    assert len(sent) == 5 and sum("INSERT INTO patient_keys" in s for s in sent) == 2, sent
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM patient_keys WHERE patient_id = $1", first.patient_id) == 1
        assert await conn.fetchval("SELECT count(*) FROM patients WHERE patient_id = $1", first.patient_id) == 1


async def test_a_referral_that_raced_the_erasure_of_its_patient_enrols_a_new_patient(intake, recording, pool, clock):
    first = (await intake.post("/v1/referrals", json=referral("RT-11a", seed=11), headers=referrer())).json()
    old_patient = uuid.UUID(first["patient_id"])

    @contextlib.asynccontextmanager
    async def erasure_uncommitted():
        async with pool.acquire() as conn, conn.transaction():
            yield await handle_erasure(UnitOfWork(conn, STORE, ManualClock(NOW)), old_patient, "fysio-test")

    # the referral's snapshot still shows the erased key; its insert waits for the erasure and then finds no
    # conflict: a new patient, and nothing of it attached to the erased one
    clock.advance(timedelta(days=1))  # a patient the second referral treated would show it
    second = intake.post("/v1/referrals", json=referral("RT-11b", seed=11), headers=referrer())
    response, _, erasure = await raced(pool, recording, second, erasure_uncommitted())
    assert response.status_code == 201, response.text
    new_patient = uuid.UUID(response.json()["patient_id"])
    assert new_patient != old_patient and erasure.episodes == [uuid.UUID(first["episode_id"])]
    async with pool.acquire() as conn:
        owners = await conn.fetch(
            "SELECT patient_id FROM patient_episodes WHERE episode_id = $1", uuid.UUID(response.json()["episode_id"])
        )
        assert [r["patient_id"] for r in owners] == [new_patient]
        assert await conn.fetchval("SELECT count(*) FROM patients WHERE patient_id = $1", new_patient) == 1
        # the erased patient was not treated again, nor named in the new referral's access
        treated = await conn.fetchval("SELECT last_treatment_at FROM patients WHERE patient_id = $1", old_patient)
        assert treated == NOW
    logged = await access_log(pool, uuid.UUID(response.json()["episode_id"]))
    assert [r[-1] for r in logged] == [new_patient]
