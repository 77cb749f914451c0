"""Whole episodes through intake and pathway as processes, on the real broker and Postgres, with the shared
clock moved by weeks: what the pathway decides, with the guideline version and reason on every decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from deploy.cohort import CARE, DEVIATING, NORMAL, WITHIN
from shared.clock import OffsetFileClock
from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.support import patient, practice, referrer

pytestmark = pytest.mark.e2e


class Clinic:
    """A practice system talking to intake, with the system's shared clock."""

    def __init__(self, system, clock_file: Path) -> None:
        self.intake = httpx.AsyncClient(base_url=system.url("intake"), headers=practice(), timeout=10)
        self.pathway = httpx.AsyncClient(base_url=system.url("pathway"), headers=practice(), timeout=10)
        self.clock_file = clock_file
        self.offset = timedelta(0)

    def today(self) -> str:
        return (datetime.now(UTC) + self.offset).date().isoformat()

    def days_ago(self, days: int) -> str:
        return (datetime.now(UTC) + self.offset - timedelta(days=days)).date().isoformat()

    def advance(self, days: int) -> None:
        self.offset += timedelta(days=days)
        OffsetFileClock.write_offset(self.clock_file, self.offset)

    async def refer(self, seed: int) -> str:
        body = {
            "referral_id": f"FLOW-{uuid.uuid4().hex[:8]}",
            "route": "gp_referral",
            "practice_agb": "04123456",
            "referrer_agb": "01234567",
            "referred_on": self.today(),
            "patient": patient(seed),
            "request_for_help": "Weer kunnen werken",
            "reason": "Lage rugpijn",
        }
        response = await self.intake.post("/v1/referrals", json=body, headers=referrer())
        assert response.status_code == 201, response.text
        return response.json()["episode_id"]

    async def record(self, episode: str, command: str, body: dict) -> None:
        response = await self.intake.post(f"/v1/episodes/{episode}/{command}", json=body)
        assert response.status_code in (200, 201), f"{command}: {response.text}"

    async def timeline(self, episode: str, until_type: str, count: int = 1) -> list[dict]:
        async def probe():
            response = await self.pathway.get(f"/v1/episodes/{episode}")
            if response.status_code != 200:
                return None
            entries = response.json()["timeline"]
            return entries if sum(e["type"].endswith(until_type) for e in entries) >= count else None

        return await eventually(probe, timeout=30)

    async def close(self) -> None:
        await self.intake.aclose()
        await self.pathway.aclose()


def of(entries: list[dict], kind: str) -> list[dict]:
    return [e for e in entries if e["type"].endswith("." + kind)]


@pytest.fixture
def clock_file(tmp_path: Path) -> Path:
    path = tmp_path / "clock-offset"
    OffsetFileClock.write_offset(path, timedelta(0))
    return path


async def test_acute_normal_chronic_deviating_and_radicular_episodes(
    fresh_database, infrastructure, tmp_path, clock_file
):
    with running_system(
        fresh_database,
        infrastructure.bootstrap,
        tmp_path,
        services=("intake", "pathway"),
        CLOCK_OFFSET_FILE=str(clock_file),
    ) as system:
        clinic = Clinic(system, clock_file)
        try:
            # acute, normal course: information and advice, no escalation
            acute = await clinic.refer(11)
            await clinic.record(
                acute,
                "history",
                {
                    "taken_on": clinic.today(),
                    "onset_date": clinic.days_ago(25),
                    "course": NORMAL,
                    "care_context": CARE,
                    "coping": "adequate",
                },
            )
            await clinic.record(acute, "assessment", {"assessed_on": clinic.today(), "scope": WITHIN})
            entries = await clinic.timeline(acute, "TreatmentPlanProposed")
            [course] = of(entries, "BeloopClassified")
            assert course["data"]["beloop"] == "normaal" and course["data"]["duration_class"] == "acute"
            assert course["guideline_version"] == "kngf-lrp-2003" and course["data"]["reason"]["section"]
            [plan] = of(entries, "TreatmentPlanProposed")
            assert "information_advice" in plan["data"]["components"]
            assert of(entries, "EscalatedToReferrer") == []
            # one session of information and advice, closed: no timers left
            await clinic.record(
                acute,
                "treatment-plan",
                {
                    "agreed_on": clinic.today(),
                    "start_date": clinic.today(),
                    "interventions": [{"modality": "information_advice", "main_component": True}],
                },
            )
            await clinic.record(acute, "sessions", {"session_on": clinic.today()})
            await clinic.record(acute, "closing", {"closed_on": clinic.today(), "reason": "goals_met"})

            async def no_timers_left():
                view = (await clinic.pathway.get(f"/v1/episodes/{acute}")).json()
                return view["evaluations"] == []

            await eventually(no_timers_left)

            # radicular signs with a positive neurological exam: outside the guideline, escalated
            radicular = await clinic.refer(12)
            await clinic.record(
                radicular,
                "history",
                {"taken_on": clinic.today(), "onset_date": clinic.days_ago(30), "course": NORMAL, "care_context": CARE},
            )
            await clinic.record(
                radicular,
                "assessment",
                {
                    "assessed_on": clinic.today(),
                    "scope": {
                        **WITHIN,
                        "radicular_signs_suspected": True,
                        "neurological_exam": {
                            "lasegue_positive": True,
                            "muscle_strength_reduced": False,
                            "sensibility_disturbed": False,
                            "tendon_reflexes_abnormal": False,
                        },
                    },
                },
            )
            entries = await clinic.timeline(radicular, "EscalatedToReferrer")
            [escalation] = of(entries, "EscalatedToReferrer")
            assert escalation["data"]["reason"] == "radicular_signs"
            assert escalation["data"]["referrer_agb"] == "01234567"

            # chronic, deviating: no progress at week three → evaluation completed, escalated to the referrer
            chronic = await clinic.refer(13)
            await clinic.record(
                chronic,
                "history",
                {
                    "taken_on": clinic.today(),
                    "onset_date": clinic.days_ago(120),
                    "course": DEVIATING,
                    "care_context": CARE,
                },
            )
            await clinic.record(chronic, "assessment", {"assessed_on": clinic.today(), "scope": WITHIN})
            qbpds = {"items": [3] * 20}
            await clinic.record(
                chronic,
                "measurements",
                {"occasion": "intake", "measurement": {"taken_on": clinic.today(), "qbpds": qbpds}},
            )
            await clinic.record(
                chronic,
                "treatment-plan",
                {
                    "agreed_on": clinic.today(),
                    "start_date": clinic.today(),
                    "interventions": [
                        {"modality": "exercise_therapy", "main_component": True},
                        {"modality": "traction", "main_component": False},
                    ],
                },
            )
            entries = await clinic.timeline(chronic, "TreatmentPlanProposed", count=2)  # the agreed plan checked
            [course] = of(entries, "BeloopClassified")
            assert course["data"]["beloop"] == "afwijkend" and course["data"]["duration_class"] == "chronic"
            flagged = {
                f["modality"]: f["advice"]
                for f in of(entries, "TreatmentPlanProposed")[-1]["data"]["flagged_modalities"]
            }
            assert flagged.get("traction") == "not_advised"

            clinic.advance(21)
            await clinic.record(
                chronic,
                "measurements",
                {
                    "occasion": "evaluation",
                    "evaluation_number": 1,
                    "measurement": {"taken_on": clinic.today(), "qbpds": qbpds},
                },
            )
            entries = await clinic.timeline(chronic, "EvaluationCompleted")
            [evaluation] = of(entries, "EvaluationCompleted")
            assert evaluation["data"]["escalate_to_verwijzer"] is True
            assert evaluation["data"]["activities_participation_increased"] is False
            entries = await clinic.timeline(chronic, "EscalatedToReferrer")
            assert [e["data"]["reason"] for e in of(entries, "EscalatedToReferrer")] == [
                "no_progress_after_three_weeks"
            ]

            # the read API: current state and the verwijzer's open escalations
            async def state_caught_up():
                view = (await clinic.pathway.get(f"/v1/episodes/{chronic}")).json()["state"]
                return view if view and view["evaluations_completed"] == 1 else None

            state = await eventually(state_caught_up)
            assert state["beloop"] == "afwijkend" and state["next_evaluation_number"] == 2
            assert [e["reason"] for e in state["escalations"]] == ["no_progress_after_three_weeks"]
            sources = {e["source"] for e in (await clinic.pathway.get(f"/v1/episodes/{chronic}")).json()["timeline"]}
            assert sources == {"intake", "pathway"}
            open_for_gp = (await clinic.pathway.get("/v1/escalations", headers=referrer())).json()
            assert {(e["episode_id"], e["reason"]) for e in open_for_gp} >= {
                (radicular, "radicular_signs"),
                (chronic, "no_progress_after_three_weeks"),
            }
            assert (await clinic.pathway.get("/v1/escalations", headers=referrer("01999999"))).json() == []

        finally:
            await clinic.close()
    # the read model is disposable: dropped and rebuilt by replay it is the same (services stopped, so
    # nothing is appended meanwhile)
    await replay_compares_equal(fresh_database)


async def replay_compares_equal(database_url: str) -> None:

    from services.pathway.projection import EpisodeView
    from shared.db import create_pool
    from shared.events import REGISTRY
    from shared.store.event_store import EventStore
    from shared.store.projection import ProjectionRunner

    pool = await create_pool(database_url, "pathway", min_size=1, max_size=2)
    query = "SELECT * FROM episode_view ORDER BY episode_id"
    try:
        runner = ProjectionRunner(pool, EventStore("pathway", REGISTRY), EpisodeView())
        while await runner.run_once():  # whatever the stopped service had not applied yet
            pass
        async with pool.acquire() as conn:
            before = [dict(r) for r in await conn.fetch(query)]
        assert len(before) == 3
        replayed = await runner.rebuild()
        async with pool.acquire() as conn:
            after = [dict(r) for r in await conn.fetch(query)]
            total = await conn.fetchval("SELECT count(*) FROM events")
        assert replayed == total and after == before
    finally:
        await pool.close()


async def test_chronic_course_with_graded_activity_progresses_over_two_evaluations_and_an_objection_is_kept(
    fresh_database, infrastructure, tmp_path, clock_file
):
    with running_system(
        fresh_database,
        infrastructure.bootstrap,
        tmp_path,
        services=("intake", "pathway"),
        CLOCK_OFFSET_FILE=str(clock_file),
    ) as system:
        clinic = Clinic(system, clock_file)
        try:
            episode = await clinic.refer(21)
            await clinic.record(episode, "report-consent", {"consent": "objected", "on": clinic.today()})
            await clinic.record(
                episode,
                "history",
                {
                    "taken_on": clinic.today(),
                    "onset_date": clinic.days_ago(200),
                    "course": DEVIATING,
                    "care_context": CARE,
                    "hindering_factors": [{"kind": "fear_of_movement", "influence": "yes"}],
                },
            )
            await clinic.record(episode, "assessment", {"assessed_on": clinic.today(), "scope": WITHIN})
            await clinic.record(
                episode,
                "measurements",
                {
                    "occasion": "intake",
                    "measurement": {"taken_on": clinic.today(), "qbpds": {"items": [4] * 20}, "nprs": 7},
                },
            )
            await clinic.record(
                episode,
                "treatment-plan",
                {
                    "agreed_on": clinic.today(),
                    "start_date": clinic.today(),
                    "interventions": [
                        {"modality": "exercise_therapy", "main_component": True},
                        {"modality": "graded_activity", "main_component": True},
                    ],
                    "graded_activity": {
                        "start_date": clinic.today(),
                        "days_to_goal": 42,
                        "activities": [
                            {
                                "activity": "wandelen",
                                "intensity_unit": "km/u",
                                "threat_rank": 1,
                                "baseline": [{"duration_minutes": 10, "frequency_per_day": 1, "intensity": 3}],
                                "goal": {"duration_minutes": 40, "frequency_per_day": 2, "intensity": 5},
                            }
                        ],
                    },
                },
            )
            for evaluation, level in ((1, 2), (2, 1)):
                for day in range(3):
                    await clinic.record(
                        episode,
                        "activity-logs",
                        {
                            "day": {
                                "activity": "wandelen",
                                "on": clinic.days_ago(-day),
                                "duration_minutes": 10 + 5 * evaluation,
                                "frequency_per_day": 1,
                                "intensity": 3.5,
                            }
                        },
                    )
                clinic.advance(21)
                await clinic.record(episode, "sessions", {"session_on": clinic.today()})
                await clinic.record(
                    episode,
                    "measurements",
                    {
                        "occasion": "evaluation",
                        "evaluation_number": evaluation,
                        "measurement": {
                            "taken_on": clinic.today(),
                            "qbpds": {"items": [level] * 20},
                            "nprs": 7 - 2 * evaluation,
                        },
                    },
                )
                entries = await clinic.timeline(episode, "EvaluationCompleted", count=evaluation)
            completed = of(entries, "EvaluationCompleted")
            assert [c["data"]["activities_participation_increased"] for c in completed] == [True, True]
            assert [c["data"]["escalate_to_verwijzer"] for c in completed] == [False, False]
            assert of(entries, "EscalatedToReferrer") == []
            [course] = of(entries, "BeloopClassified")[-1:]
            assert course["data"]["beloop"] == "afwijkend" and course["data"]["duration_class"] == "chronic"
            assert "exercise_therapy_varied_programme" in of(entries, "TreatmentPlanProposed")[-1]["data"]["components"]
            scheduled = [e["data"]["evaluation_number"] for e in of(entries, "EvaluationScheduled")]
            assert scheduled[-1] == 3  # the next one is planned after every evaluation
            # the objection is a fact in the episode's timeline (reporting acts on it)
            facts = [e["type"].rsplit(".", 1)[1] for e in entries if e["source"] == "intake"]
            assert "ReportObjectionRecorded" in facts
        finally:
            await clinic.close()
