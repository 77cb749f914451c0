"""Recording an episode at intake over HTTP: every command, optimistic concurrency, idempotent retries,
refusals on a closed episode, and the events in intake's store — with the service as its own process."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import running_system
from tests.support import OTHER_PRACTICE_AGB, patient, practice, referrer

pytestmark = pytest.mark.e2e

COURSE = {
    "complaints": "same",
    "rest_moments_per_day": "same",
    "analgesic_use": "continuing",
    "activities_or_participation_resumed": False,
    "asks_for_specialist_care": False,
    "activities_participation_increased": False,
}
HISTORY = {
    "taken_on": "2026-11-23",
    "onset_date": "2026-08-01",
    "course": COURSE,
    "hindering_factors": [{"kind": "fear_of_movement", "influence": "yes"}],
    "coping": "inadequate",
    "care_context": {"weight_or_nutrition_concern": False, "pain_medication_questions": True, "work_problems": False},
    "notes": "Patiënt vertelt over zorgen thuis.",
}
ASSESSMENT = {
    "assessed_on": "2026-11-23",
    "scope": {
        "general_illness_signs": [],
        "radicular_signs_suspected": False,
        "neurological_exam": None,
        "specific_cause_suspected": False,
    },
}
PLAN = {
    "agreed_on": "2026-11-24",
    "start_date": "2026-11-30",
    "planned_sessions": 12,
    "interventions": [{"modality": "exercise_therapy", "main_component": True}],
    "graded_activity": {
        "start_date": "2026-11-30",
        "days_to_goal": 28,
        "activities": [
            {
                "activity": "wandelen",
                "intensity_unit": "km/u",
                "baseline": [{"duration_minutes": 10, "frequency_per_day": 1, "intensity": 3}],
                "goal": {"duration_minutes": 30, "frequency_per_day": 2, "intensity": 5},
                "threat_rank": 1,
            }
        ],
    },
    "goals": "Weer een uur wandelen met de hond.",
}


async def test_a_practice_records_a_whole_episode_with_concurrency_and_idempotency(
    fresh_database, infrastructure, tmp_path
):
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path, services=("intake",)) as system:
        intake = system.url("intake")
        async with httpx.AsyncClient(base_url=intake) as client:
            created = await client.post(
                "/v1/referrals",
                json={
                    "referral_id": "REC-1",
                    "route": "gp_referral",
                    "practice_agb": "04123456",
                    "referrer_agb": "01234567",
                    "referred_on": "2026-11-20",
                    "patient": patient(3),
                    "request_for_help": "Weer wandelen",
                    "reason": "Chronische lage rugpijn",
                },
                headers=referrer(),
            )
            episode = created.json()["episode_id"]
            base = f"/v1/episodes/{episode}"

            async def post(path: str, body: dict, **headers: str) -> httpx.Response:
                return await client.post(f"{base}/{path}", json=body, headers={**practice(), **headers})

            # a verwijzer refers, but records nothing; another practice does not even see the episode
            assert (await client.post(f"{base}/history", json=HISTORY, headers=referrer())).status_code == 403
            assert (
                await client.post(f"{base}/history", json=HISTORY, headers=practice(OTHER_PRACTICE_AGB))
            ).status_code == 404
            # order matters: no assessment before the history
            early = await post("assessment", ASSESSMENT)
            assert early.status_code == 422 and early.json()["errors"][0]["field"] == "assessed_on"

            history = await post("history", HISTORY, **{"If-Match": '"1"'})
            assert history.status_code == 201 and history.json()["version"] == 2
            assert history.headers["etag"] == '"2"'
            stale = await post("assessment", ASSESSMENT, **{"If-Match": '"1"'})
            assert stale.status_code == 412 and stale.json()["current_version"] == 2
            assert stale.headers["content-type"] == "application/problem+json" and stale.headers["etag"] == '"2"'
            assert (await post("assessment", ASSESSMENT, **{"If-Match": '"2"'})).status_code == 201

            measurement = {"occasion": "intake", "measurement": {"taken_on": "2026-11-23", "nprs": 6}}
            first = await post("measurements", measurement, **{"Idempotency-Key": "m-1"})
            retry = await post("measurements", measurement, **{"Idempotency-Key": "m-1"})
            assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
            reused = await post(
                "measurements",
                {**measurement, "measurement": {"taken_on": "2026-11-23", "nprs": 2}},
                **{"Idempotency-Key": "m-1"},
            )
            assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"

            assert (await post("treatment-plan", PLAN)).status_code == 201
            assert (
                await post("sessions", {"session_on": "2026-11-30", "notes": "Uitleg en eerste oefeningen"})
            ).json()["version"] == 6  # referral, history, assessment, measurement, plan, this session
            log = {
                "day": {
                    "activity": "wandelen",
                    "on": "2026-12-01",
                    "duration_minutes": 12,
                    "frequency_per_day": 1,
                    "intensity": 3,
                }
            }
            assert (await post("activity-logs", log)).status_code == 201
            assert (await post("activity-logs", log)).status_code == 422
            assert (await post("report-consent", {"consent": "objected", "on": "2026-11-24"})).status_code == 201
            assert (await post("report-consent", {"consent": "objected", "on": "2026-11-25"})).status_code == 200
            assert (await post("closing", {"closed_on": "2027-01-15", "reason": "goals_met"})).status_code == 201

            late = await post(
                "measurements", {"occasion": "intake", "measurement": {"taken_on": "2027-01-16", "nprs": 1}}
            )
            assert late.status_code == 422 and "closed" in late.json()["detail"]
            bad = await post(
                "measurements", {"occasion": "intake", "measurement": {"taken_on": "2026-11-23", "nprs": 11}}
            )
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "measurement.nprs"

    conn = await asyncpg.connect(fresh_database)
    try:
        types = [
            r["event_type"].rsplit(".", 1)[1]
            for r in await conn.fetch(
                "SELECT event_type FROM intake.events WHERE stream_id = $1 ORDER BY stream_version", episode
            )
        ]
        stored = await conn.fetchval(
            "SELECT string_agg(data::text, ' ') FROM intake.events WHERE stream_id = $1", episode
        )
    finally:
        await conn.close()
    assert types == [
        "ReferralReceived",
        "HistoryTaken",
        "AssessmentCompleted",
        "MeasurementRecorded",
        "TreatmentPlanAgreed",
        "SessionRecorded",
        "ActivityLogged",
        "ReportObjectionRecorded",
        "EpisodeClosed",
    ]
    for free_text in ("zorgen thuis", "met de hond", "eerste oefeningen"):
        assert free_text not in stored  # sealed, never in clear


async def test_a_fhir_service_request_opens_the_same_episode_as_our_json(fresh_database, infrastructure, tmp_path):
    import json
    from pathlib import Path

    document = json.loads((Path(__file__).parent.parent / "unit" / "intake" / "service_request.json").read_text())
    as_json = {
        "referral_id": "HIS-2026-000777",
        "route": "gp_referral",
        "practice_agb": "04123456",
        "referrer_agb": "01234567",
        "referred_on": "2026-11-20",
        "patient": {"name": "Johanna Vries", "bsn": "999990019", "birth_date": "1968-04-12"},
        "reason": "Aspecifieke lage rugpijn",
        "request_for_help": "Wil weer kunnen tuinieren",
    }
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path, services=("intake",)) as system:
        async with httpx.AsyncClient(base_url=system.url("intake"), headers=referrer()) as client:
            fhir = {"content-type": "application/fhir+json", "Idempotency-Key": "sr-777"}
            first = await client.post("/v1/referrals", content=json.dumps(document), headers=fhir)
            assert first.status_code == 201, first.text
            retried = await client.post("/v1/referrals", content=json.dumps(document), headers=fhir)
            assert retried.status_code == 201 and retried.json() == first.json()  # the stored first answer
            same = await client.post("/v1/referrals", json=as_json)
            assert same.status_code == 200 and same.json()["episode_id"] == first.json()["episode_id"]

            broken = {**document, "contained": []}
            refused = await client.post(
                "/v1/referrals", content=json.dumps(broken), headers={"content-type": "application/fhir+json"}
            )
            assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "contained"
            wrong_type = await client.post("/v1/referrals", content=b"hello", headers={"content-type": "text/plain"})
            assert wrong_type.status_code == 415
            view = await client.get(f"/v1/episodes/{first.json()['episode_id']}")
            assert view.json()["personal"]["patient"]["name"] == "Johanna Vries"
