"""Privacy across the whole system: personal data never readable outside intake, erasure that reaches
every copy, the NEN 7513 access log, and practices that see only their own patients."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from kafka import KafkaAdminClient

from services.intake.keys.encryption import WrappedKey
from services.intake.settings import IntakeSettings
from tests.conftest import eventually
from tests.e2e.conftest import Receiver, running_system
from tests.integration.kafka_support import read_topic
from tests.raw_files import DatabaseAudit, cannot_scan, total
from tests.support import (
    OTHER_PRACTICE_AGB,
    OTHER_REFERRER_AGB,
    REFERRER_AGB,
    practice,
    referrer,
    subscriber,
    valid_bsn,
)

pytestmark = pytest.mark.e2e

TYPES = [
    "nl.ruggengraat.intake.ReferralReceived",
    "nl.ruggengraat.intake.PatientDataErased",
    "nl.ruggengraat.pathway.EvaluationScheduled",
]


def distinctive_patient() -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {
        "name": f"Wilhelmina Zoekmij-{tag}",
        "bsn": valid_bsn(int(tag[:5], 16)),
        "birth_date": "1957-09-23",
        "email": f"w.zoekmij.{tag}@example.nl",
    }


def referral(person: dict[str, str]) -> dict:
    return {
        "referral_id": f"PRIV-{uuid.uuid4().hex[:6]}",
        "route": "gp_referral",
        "practice_agb": "04123456",
        "referrer_agb": REFERRER_AGB,
        "referred_on": "2026-11-20",
        "patient": person,
        "request_for_help": f"Geheime hulpvraag van {person['name']}",
        "reason": "Lage rugpijn",
    }


def needles(person: dict[str, str]) -> list[str]:
    return [person["name"], person["bsn"], person["birth_date"], "23-09-1957", person["email"], activity_of(person)]


def activity_of(person: dict[str, str]) -> str:
    """A PSK activity in the patient's own words, as unique as the patient."""
    return f"Kleinkind optillen {person['name'].rsplit('-', 1)[1]}"


async def readable_in_database(database_url: str, person: dict[str, str]) -> list[str]:
    """Every table of every schema, every column as text (bytea as hex too): where a needle shows."""
    found = []
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        assert len(tables) > 10, "the services' schemas should all be there"
        for t in tables:
            for needle in needles(person):
                hexed = needle.encode().hex()
                hits = await conn.fetchval(
                    f'SELECT count(*) FROM "{t["table_schema"]}"."{t["table_name"]}" AS r'
                    " WHERE strpos(r::text, $1) > 0 OR strpos(lower(r::text), $2) > 0",
                    needle,
                    hexed,
                )
                if hits:
                    found.append(f"{t['table_schema']}.{t['table_name']}: {needle}")
    finally:
        await conn.close()
    return found


def readable_on_broker(bootstrap: str, prefix: str, person: dict[str, str]) -> tuple[list[str], int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        topics = [t for t in admin.list_topics() if t.startswith(prefix)]
    finally:
        admin.close()
    found, records = [], 0
    for topic in topics:
        for record in read_topic(bootstrap, topic, 1, timeout=3):
            records += 1
            blob = (record.key or b"") + (record.value or b"") + b"".join(v for _, v in record.headers or [])
            found += [f"{topic}: {n}" for n in needles(person) if n.encode() in blob]
    return found, records


async def wrapped_key_of(database_url: str, patient_id: uuid.UUID) -> WrappedKey | None:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT kek_id, wrapped_key FROM intake.patient_keys WHERE patient_id = $1", patient_id
        )
    finally:
        await conn.close()
    return WrappedKey(row["kek_id"], bytes(row["wrapped_key"])) if row else None


async def test_personal_data_is_never_readable_outside_intake_and_erasure_reaches_every_copy(
    fresh_database, infrastructure, receiver: Receiver, tmp_path
):
    person = distinctive_patient()
    audit = await DatabaseAudit.start(fresh_database)
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path) as system:
        prefix = system.extra_env["KAFKA_TOPIC_PREFIX"]
        async with httpx.AsyncClient() as client:
            sub = await client.post(
                f"{system.url('notifications')}/v1/subscriptions",
                json={"endpoint_url": f"{receiver.url}/hook", "event_types": TYPES},
                headers=subscriber(),
            )
            receiver.configure(secret=sub.json()["secret"])
            created = await client.post(
                f"{system.url('intake')}/v1/referrals", json=referral(person), headers=referrer()
            )
            assert created.status_code == 201, created.text
            episode, patient_id = created.json()["episode_id"], created.json()["patient_id"]

            view = (await client.get(f"{system.url('intake')}/v1/episodes/{episode}", headers=practice())).json()
            assert view["personal"]["patient"]["name"] == person["name"]  # the data is really there, sealed
            psk = {"scale": "0-10", "activities": [{"activity": activity_of(person), "score": 7}]}
            measured = await client.post(
                f"{system.url('intake')}/v1/episodes/{episode}/measurements",
                json={"occasion": "intake", "measurement": {"taken_on": "2026-11-23", "psk": psk}},
                headers=practice(),
            )
            assert measured.status_code == 201, measured.text

            async def everywhere():
                got = await asyncio.to_thread(receiver.received)
                overview = await client.get(f"{system.url('reporting')}/v1/episodes/{episode}", headers=practice())
                course = await client.get(f"{system.url('pathway')}/v1/episodes/{episode}", headers=practice())
                measured = course.status_code == 200 and any(
                    e["type"].endswith("MeasurementRecorded") for e in course.json()["timeline"]
                )
                return len(got["events"]) == 2 and overview.status_code == 200 and measured

            await eventually(everywhere)

            assert await readable_in_database(fresh_database, person) == []
            on_broker, records = await asyncio.to_thread(readable_on_broker, infrastructure.bootstrap, prefix, person)
            assert records >= 2 and on_broker == []

            # the raw files: the key only ever wrapped, its wrapped form once (one row version), no marker
            wrapped = await wrapped_key_of(fresh_database, uuid.UUID(patient_id))
            data_key = await IntakeSettings().key_encryption().unwrap(wrapped, uuid.UUID(patient_id))
            secrets = {"key": data_key, "wrapped": wrapped.blob, **{n: n for n in needles(person)}}
            if isinstance(audit, DatabaseAudit):
                before = await audit.scan(secrets)
                print(f"\nbefore erasure: database files {dict(before.tables)}, WAL {dict(before.wal)}")
                assert before.tables["wrapped/clear"] == 1 and total(before.tables, "key") == 0
                assert total(before.wal, "key") == 0
                for marker in needles(person):
                    assert total(before.tables, marker) == 0 and total(before.wal, marker) == 0, marker

            erased = await client.post(
                f"{system.url('intake')}/v1/patients/{patient_id}/erasure", headers=practice(OTHER_PRACTICE_AGB)
            )
            assert erased.status_code == 404  # another practice cannot erase (nor learn the patient exists)
            erased = await client.post(f"{system.url('intake')}/v1/patients/{patient_id}/erasure", headers=practice())
            assert erased.status_code == 200 and erased.json()["episodes"] == [episode]

            view = (await client.get(f"{system.url('intake')}/v1/episodes/{episode}", headers=practice())).json()
            assert view["personal"] is None and view["personal_data_erased"] is True

            async def reporting_marked():
                r = await client.get(f"{system.url('reporting')}/v1/episodes/{episode}", headers=practice())
                return r.json()["personal_data_erased"]

            await eventually(reporting_marked)

            # No oracle: the same BSN from any GP is a first referral of a new patient (a fresh pseudonym)
            other_gp = {**referral(person), "referrer_agb": OTHER_REFERRER_AGB}
            again = await client.post(
                f"{system.url('intake')}/v1/referrals", json=other_gp, headers=referrer(OTHER_REFERRER_AGB)
            )
            assert again.status_code == 201, again.text
            assert again.json()["patient_id"] != patient_id

        if isinstance(audit, DatabaseAudit):
            after = await audit.scan(secrets)
            print(f"after erasure and CHECKPOINT: database files {dict(after.tables)}, WAL {dict(after.wal)}")
            assert total(after.tables, "wrapped") == 0  # the key's one row version is gone from every table file
            assert total(after.tables, "key") == 0 and total(after.wal, "key") == 0
            for marker in needles(person):
                assert total(after.tables, marker) == 0 and total(after.wal, marker) == 0, marker
            assert after.wal["wrapped/clear"] >= 1  # until recycled; useless once KEK rotation retires its KEK
        assert await wrapped_key_of(fresh_database, uuid.UUID(patient_id)) is None
        assert await readable_in_database(fresh_database, person) == []
        on_broker, _ = await asyncio.to_thread(readable_on_broker, infrastructure.bootstrap, prefix, person)
        assert on_broker == []
    logs = {p.name: p.read_text(errors="replace") for p in tmp_path.glob("*.log") if p.name != "receiver.log"}
    assert set(logs) >= {"intake.log", "pathway.log", "reporting.log", "notifications.log"}
    assert [(name, n) for name, text in logs.items() for n in needles(person) if n in text] == []
    if not isinstance(audit, DatabaseAudit):
        cannot_scan(f"everything but the raw files was checked: {audit}", infrastructure.how)


async def test_every_read_is_in_the_access_log_once_with_its_actor(fresh_database, infrastructure, tmp_path):
    person = distinctive_patient()
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path) as system:
        async with httpx.AsyncClient() as client:
            created = await client.post(
                f"{system.url('intake')}/v1/referrals", json=referral(person), headers=referrer()
            )
            episode, patient_id = created.json()["episode_id"], created.json()["patient_id"]

            async def reachable(service: str):
                r = await client.get(f"{system.url(service)}/v1/episodes/{episode}", headers=practice())
                return r.status_code == 200

            for service in ("pathway", "reporting"):
                await eventually(lambda s=service: reachable(s))  # noqa: B023 — awaited at once
            # the polling above read each once or more; start counting from a clean moment
            conn = await asyncpg.connect(fresh_database)
            try:
                before = {
                    s: await conn.fetchval(f"SELECT count(*) FROM {s}.access_log")
                    for s in ("intake", "pathway", "reporting")
                }
            finally:
                await conn.close()

            for service in ("intake", "pathway", "reporting"):
                headers = {**practice(), "x-forwarded-for": "ignored"}
                assert (
                    await client.get(f"{system.url(service)}/v1/episodes/{episode}", headers=headers)
                ).status_code == 200
            assert (
                await client.get(f"{system.url('intake')}/v1/episodes/{episode}", headers=referrer())
            ).status_code == 200
            for service, other in (
                ("intake", practice(OTHER_PRACTICE_AGB)),
                ("pathway", referrer(OTHER_REFERRER_AGB)),
                ("reporting", practice(OTHER_PRACTICE_AGB)),
            ):
                denied = await client.get(f"{system.url(service)}/v1/episodes/{episode}", headers=other)
                assert denied.status_code == 404, f"{service} leaked the episode to a stranger"

            listing = await client.get(
                f"{system.url('intake')}/v1/patients/{patient_id}/access-log", headers=practice()
            )
            assert listing.status_code == 200
            body = listing.json()
            assert body["unreachable_services"] == []

        conn = await asyncpg.connect(fresh_database)
        try:
            for service in ("intake", "pathway", "reporting"):
                rows = await conn.fetch(
                    f"SELECT actor_user, actor_role, actor_org, action, service, client FROM {service}.access_log"
                    " ORDER BY id OFFSET $1",
                    before[service],
                )
                practice_reads = [r for r in rows if r["actor_role"] == "practice"]
                assert [(r["actor_user"], r["actor_org"], r["action"], r["service"]) for r in practice_reads] == [
                    ("fysio-test", "04123456", "read", service)
                ], f"{service}: {rows}"
                assert practice_reads[0]["client"] == "127.0.0.1"
            # each entry listed once: as many per service as that service's log holds for the episode (intake
            # is in its own PEER_URLS, as in compose and k8s, and used to list its own entries twice)
            for service in ("intake", "pathway", "reporting"):
                logged = await conn.fetchval(
                    f"SELECT count(*) FROM {service}.access_log WHERE episode_id = $1", uuid.UUID(episode)
                )
                assert sum(e["service"] == service for e in body["entries"]) == logged, service
            intake_actors = [
                r["actor_role"] for r in await conn.fetch("SELECT actor_role FROM intake.access_log ORDER BY id")
            ]
            assert intake_actors[0] == "referrer"  # the referral itself was written by the GP system
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute("UPDATE intake.access_log SET actor_user = 'someone else'")
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute("DELETE FROM pathway.access_log")
        finally:
            await conn.close()
        # the patient's listing spans all three services and holds no clinical content
        assert {e["service"] for e in body["entries"]} == {"intake", "pathway", "reporting"}
        assert all(
            set(e)
            == {"at", "service", "actor_user", "actor_role", "actor_org", "client", "action", "route", "episode_id"}
            for e in body["entries"]
        )
