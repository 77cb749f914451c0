"""Intake's keys at rest on real PostgreSQL, as an auditor with the server's files would look: the raw table
files and WAL segments searched for a patient's key (clear, hex, base64), its wrapped form and the patient's
markers, before and after erasure (after a CHECKPOINT), and after a rotation of the key-encryption key."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.intake.key_rotation import rotate_all
from services.intake.keys.encryption import KeyUnavailable, WrappedKey, keyring_document, new_kek, parse_keyring
from services.intake.routes import episode_commands, patients, referrals
from services.intake.settings import IntakeSettings
from services.intake.store import patients as key_store
from shared.auth import service_headers
from shared.clock import ManualClock
from shared.db import open_service_database
from shared.events import REGISTRY
from shared.http import install_problem_handlers
from shared.service import Runtime
from shared.store.event_store import EventStore
from shared.store.migrate import event_store_migrations, migrations_in
from tests.e2e.test_intake_recording import ASSESSMENT, HISTORY, PLAN
from tests.raw_files import ServerFiles, cannot_scan, checkpoint, occurrences, server_files, total, wal_segment
from tests.support import practice, referrer, valid_bsn

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEK_A, KEK_B = new_kek(), new_kek()


def settings(database_url: str, keys: dict[str, bytes], current: str) -> IntakeSettings:
    return IntakeSettings(database_url=database_url, key_encryption_keys=keyring_document(keys, current))


@pytest.fixture
async def pool(fresh_database) -> AsyncIterator[asyncpg.Pool]:
    migrations = event_store_migrations() + migrations_in("services.intake")
    pool = await open_service_database(fresh_database, "intake", migrations)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def files(pool, infrastructure) -> ServerFiles:
    async with pool.acquire() as conn:
        found = await server_files(conn)
    if isinstance(found, str):
        cannot_scan(found, infrastructure.how)
    return found


@contextlib.asynccontextmanager
async def intake(pool: asyncpg.Pool, config: IntakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.jwt_secret = config.jwt_secret
    app.state.runtime = Runtime(config, pool, EventStore("intake", REGISTRY), ManualClock(NOW))
    install_problem_handlers(app)
    for router in (referrals.router, episode_commands.router, patients.router):
        app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield client


def distinctive_patient() -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {
        "name": f"Wilhelmina Zoekmij-{tag}",
        "bsn": valid_bsn(int(tag[:5], 16)),
        "birth_date": "1957-09-23",
        "email": f"w.zoekmij.{tag}@example.nl",
    }


def markers(person: dict[str, str]) -> dict[str, bytes | str]:
    keys = ("name", "bsn", "email", "help", "psk_activity", "graded_activity")
    return {k: person[k] for k in keys if k in person}


def with_activities(person: dict[str, str]) -> dict[str, str]:
    """The patient's own words for a PSK activity and a graded activity, unique to this test."""
    tag = uuid.uuid4().hex[:8]
    return {**person, "psk_activity": f"Kleinkind optillen {tag}", "graded_activity": f"Wandelen naar de molen {tag}"}


async def refer(client: httpx.AsyncClient, person: dict[str, str]) -> tuple[str, uuid.UUID]:
    body = {
        "referral_id": f"KEYS-{uuid.uuid4().hex[:6]}",
        "route": "gp_referral",
        "practice_agb": "04123456",
        "referrer_agb": "01234567",
        "referred_on": "2026-11-20",
        "patient": {k: person[k] for k in ("name", "bsn", "birth_date", "email")},
        "request_for_help": person["help"],
    }
    created = await client.post("/v1/referrals", json=body, headers=referrer())
    assert created.status_code == 201, created.text
    return created.json()["episode_id"], uuid.UUID(created.json()["patient_id"])


async def wrapped_of(conn: asyncpg.Connection, patient_id: uuid.UUID) -> WrappedKey:
    row = await conn.fetchrow("SELECT kek_id, wrapped_key FROM patient_keys WHERE patient_id = $1", patient_id)
    return WrappedKey(row["kek_id"], bytes(row["wrapped_key"]))


async def test_a_key_is_stored_once_and_only_wrapped_and_after_erasure_no_table_file_holds_it(pool, files, capsys):
    config = settings("unused", {"a": KEK_A}, "a")
    person = with_activities({**distinctive_patient(), "help": f"Geheime hulpvraag {uuid.uuid4().hex[:8]}"})
    async with pool.acquire() as conn:
        since = await wal_segment(conn)
    async with intake(pool, config) as client:
        episode, patient_id = await refer(client, person)
        base = f"/v1/episodes/{episode}"
        graded = PLAN["graded_activity"]
        plan = {
            **PLAN,
            "graded_activity": {
                **graded,
                "activities": [{**graded["activities"][0], "activity": person["graded_activity"]}],
            },
        }
        psk = {"scale": "0-10", "activities": [{"activity": person["psk_activity"], "score": 7}]}
        measurement = {"occasion": "intake", "measurement": {"taken_on": "2026-11-23", "psk": psk}}
        # every command rewrites the patient's row (its last treatment): with the key in that row, each left a copy
        steps = (
            ("history", HISTORY),
            ("assessment", ASSESSMENT),
            ("measurements", measurement),
            ("treatment-plan", plan),
        )
        for path, body in steps:
            assert (await client.post(f"{base}/{path}", json=body, headers=practice())).status_code == 201, path
        for day in ("2026-11-30", "2026-12-02", "2026-12-07"):
            session = {"session_on": day, "notes": f"Sessie met {person['name']}"}
            assert (await client.post(f"{base}/sessions", json=session, headers=practice())).status_code == 201
            logged = {
                "day": {
                    "activity": person["graded_activity"].upper(),  # the same activity, however it is written
                    "on": day,
                    "duration_minutes": 12,
                    "frequency_per_day": 1,
                    "intensity": 3,
                }
            }
            assert (await client.post(f"{base}/activity-logs", json=logged, headers=practice())).status_code == 201
        view = (await client.get(base, headers=practice())).json()
        assert view["personal"]["patient"]["email"] == person["email"]
        # the letters get the patient's own words from intake, by the references the events carry
        service = service_headers(config.jwt_secret, "reporting")
        letter = (await client.get(f"{base}/letter-data", headers=service)).json()
        assert sorted(letter["activities"].values()) == sorted([person["graded_activity"], person["psk_activity"]])
        async with pool.acquire() as conn:
            stored = [
                json.loads(r["data"])
                for r in await conn.fetch(
                    "SELECT data FROM events WHERE stream_id = $1 ORDER BY stream_version", episode
                )
            ]
        references = {
            "psk": [a["activity"] for d in stored if "measurement" in d for a in d["measurement"]["psk"]["activities"]],
            "plan": [
                a["activity"] for d in stored if d.get("graded_activity") for a in d["graded_activity"]["activities"]
            ],
            "days": {d["day"]["activity"] for d in stored if "day" in d},
        }
        assert references["days"] == set(references["plan"])  # one reference for the activity, however written
        assert set(letter["activities"]) == {*references["psk"], *references["plan"]}

        async with pool.acquire() as conn:
            wrapped = await wrapped_of(conn, patient_id)
            data_key = await config.key_encryption().unwrap(wrapped, patient_id)
            secrets = {"key": data_key, "wrapped": wrapped.blob, **markers(person)}
            # The WAL read before a checkpoint: after one, the server may remove the segments before it (it does
            # under the whole test run's load), the insert's among them.
            await conn.fetchval("SELECT pg_switch_wal()")
            in_wal = occurrences(files.wal_segments(since), secrets)
            await checkpoint(conn)
            key_files = await files.relation_files(conn, "patient_keys")
            patient_files = await files.relation_files(conn, "patients")
        in_tables = occurrences(files.database_files(), secrets)
        before = (in_tables, in_wal, occurrences(key_files, secrets), occurrences(patient_files, secrets))
        print(f"\nbefore erasure: database files {dict(in_tables)}, WAL {dict(in_wal)}")

        assert total(in_tables, "key") == 0 and total(in_wal, "key") == 0  # only ever wrapped
        for marker in markers(person):
            assert total(in_tables, marker) == 0 and total(in_wal, marker) == 0, marker  # only ever sealed
        assert before[2]["wrapped/clear"] == 1  # written once, in its own table: one row version
        assert total(before[3], "wrapped") == 0  # not in the patients' table, which every command rewrites
        assert in_wal["wrapped/clear"] >= 1  # the insert's record: why the key is wrapped

        assert (await client.post(f"/v1/patients/{patient_id}/erasure", headers=practice())).status_code == 200
        assert (await client.get(f"{base}/letter-data", headers=service)).status_code == 410
        async with pool.acquire() as conn:
            await checkpoint(conn)
            assert await conn.fetchval("SELECT count(*) FROM patient_keys WHERE patient_id = $1", patient_id) == 0
        in_tables = occurrences(files.database_files(), secrets)
        in_wal = occurrences(files.wal_segments(since), secrets)
        print(f"after erasure and CHECKPOINT: database files {dict(in_tables)}, WAL {dict(in_wal)}")
        assert total(in_tables, "wrapped") == 0 and total(in_tables, "key") == 0  # no copy in any table file
        assert total(in_wal, "key") == 0
        for marker in markers(person):
            assert total(in_tables, marker) == 0 and total(in_wal, marker) == 0, marker
        # What is left of the WAL may still hold the wrapped key (seen above, before erasure) until its segments
        # are recycled, and archives and backups for as long as they are kept: of no use without KEK "a", which is
        # what the rotation below retires.
        retired = parse_keyring(keyring_document({"b": KEK_B}, "b"))
        with pytest.raises(KeyUnavailable):
            await retired.unwrap(wrapped, patient_id)


async def test_rotation_rewraps_the_live_keys_and_once_the_old_kek_is_retired_old_copies_open_nowhere(
    pool, files, fresh_database
):
    old = settings(fresh_database, {"a": KEK_A}, "a")
    people = [{**distinctive_patient(), "help": f"Hulpvraag {n}"} for n in range(3)]
    async with intake(pool, old) as client:
        enrolled = [await refer(client, person) for person in people]
    async with pool.acquire() as conn:
        before = {p: await wrapped_of(conn, p) for _, p in enrolled}
        since = await wal_segment(conn)
    erased_episode, erased_patient = enrolled[0]
    async with intake(pool, old) as client:
        assert (await client.post(f"/v1/patients/{erased_patient}/erasure", headers=practice())).status_code == 200

    rotating = settings(fresh_database, {"a": KEK_A, "b": KEK_B}, "b")
    done = await rotate_all(rotating)
    assert done == {"current": "b", "rewrapped": 2, "compacted": True, "keys_by_kek": {"b": 2}}
    assert (await rotate_all(rotating))["rewrapped"] == 0  # nothing left under "a"

    retired = settings(fresh_database, {"b": KEK_B}, "b")
    async with intake(pool, retired) as client:
        for (episode, _), person in zip(enrolled[1:], people[1:], strict=True):
            view = (await client.get(f"/v1/episodes/{episode}", headers=practice())).json()
            assert view["personal"]["patient"]["name"] == person["name"]  # the live keys open under "b"
        erased = (await client.get(f"/v1/episodes/{erased_episode}", headers=practice())).json()
        assert erased["personal"] is None and erased["personal_data_erased"] is True
        # a new patient is wrapped under the current KEK
        _, newcomer = await refer(client, {**distinctive_patient(), "help": "Nieuw"})
    async with pool.acquire() as conn:
        assert (await wrapped_of(conn, newcomer)).kek_id == "b"
        await checkpoint(conn)
        key_files = await files.relation_files(conn, "patient_keys")
    old_blobs = {str(p): w.blob for p, w in before.items()}
    in_table = occurrences(key_files, old_blobs)
    assert in_table == {}, in_table  # no version wrapped under "a" left in the table's files
    in_wal = occurrences(files.wal_segments(since), old_blobs)
    print(f"\nwrapped under the retired KEK: keys' table files {dict(in_table)}, WAL since rotation {dict(in_wal)}")
    # whatever WAL or a backup still holds (the erased patient's key among it) no longer opens
    for patient_id, wrapped in before.items():
        with pytest.raises(KeyUnavailable):
            await retired.key_encryption().unwrap(wrapped, patient_id)
    # intake refuses to start on a keyring that cannot open the live keys (a KEK retired before its rotation)
    async with pool.acquire() as conn:
        with pytest.raises(key_store.KeyringIncomplete, match=r"lacks \['b'\], which wrap 3 patients"):
            await key_store.settle(conn, old.key_encryption())
        await key_store.settle(conn, retired.key_encryption())


async def test_keys_stored_in_clear_before_wrapping_are_wrapped_at_start_and_leave_the_patients_file(pool, files):
    legacy_key, legacy_patient = new_kek(), uuid.uuid4()
    config = settings("unused", {"a": KEK_A}, "a")
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO patients (patient_id, practice_agb, unwrapped_key, created_at, last_treatment_at)"
            " VALUES ($1, '04123456', $2, $3, $3)",
            legacy_patient,
            legacy_key,
            NOW,
        )
        await checkpoint(conn)
        patient_files = await files.relation_files(conn, "patients")
        assert occurrences(patient_files, {"key": legacy_key})["key/clear"] >= 1
        assert await key_store.adopt_unwrapped_keys(conn, config.key_encryption()) == 1
        assert await key_store.adopt_unwrapped_keys(conn, config.key_encryption()) == 0
        assert await key_store.key_of(conn, config.key_encryption(), legacy_patient) == legacy_key
        # the old pseudonym was the BSN lookup: the next referral of that BSN still finds the patient
        lookup = await conn.fetchval("SELECT lookup FROM patient_keys WHERE patient_id = $1", legacy_patient)
        assert lookup == legacy_patient
        await checkpoint(conn)
        patient_files = await files.relation_files(conn, "patients")
    assert total(occurrences(patient_files, {"key": legacy_key}), "key") == 0
    assert total(occurrences(files.database_files(), {"key": legacy_key}), "key") == 0
