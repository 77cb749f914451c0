"""Letters to the GP, end to end: composed from the episode's events in reporting, shown with the patient's
name fetched from intake, as HTML, PDF and FHIR; none after an objection; corrections leave the original."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fhir.resources.R4B.composition import Composition

from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.e2e.test_episode_flow import CARE, DEVIATING, WITHIN, Clinic, clock_file  # noqa: F401 — fixture
from tests.support import patient, practice, referrer

pytestmark = pytest.mark.e2e


async def episode_letters(client: httpx.AsyncClient, episode: str, count: int) -> dict:
    async def probe():
        response = await client.get(f"/v1/episodes/{episode}/letters", headers=practice())
        body = response.json() if response.status_code == 200 else None
        return body if body and len(body["letters"]) >= count else None

    return await eventually(probe, timeout=30)


async def test_start_and_final_letters_with_the_patient_from_intake_and_none_after_an_objection(
    fresh_database,
    infrastructure,
    tmp_path,
    clock_file,  # noqa: F811
):
    with running_system(
        fresh_database,
        infrastructure.bootstrap,
        tmp_path,
        services=("intake", "pathway", "reporting"),
        CLOCK_OFFSET_FILE=str(clock_file),
    ) as system:
        clinic = Clinic(system, clock_file)
        reporting = httpx.AsyncClient(base_url=system.url("reporting"), timeout=20)
        try:
            consenting, objecting = await clinic.refer(31), await clinic.refer(32)
            await clinic.record(objecting, "report-consent", {"consent": "objected", "on": clinic.today()})
            for episode in (consenting, objecting):
                await clinic.record(
                    episode,
                    "history",
                    {
                        "taken_on": clinic.today(),
                        "onset_date": clinic.days_ago(150),
                        "course": DEVIATING,
                        "care_context": CARE,
                    },
                )
                await clinic.record(episode, "assessment", {"assessed_on": clinic.today(), "scope": WITHIN})
                await clinic.record(
                    episode,
                    "measurements",
                    {
                        "occasion": "intake",
                        "measurement": {"taken_on": clinic.today(), "qbpds": {"items": [3] * 20}, "nprs": 6},
                    },
                )
                await clinic.record(
                    episode,
                    "treatment-plan",
                    {
                        "agreed_on": clinic.today(),
                        "start_date": clinic.today(),
                        "goals": "Weer tuinieren in het voorjaar.",
                        "interventions": [{"modality": "exercise_therapy", "main_component": True}],
                    },
                )
            started = await episode_letters(reporting, consenting, 1)
            assert [letter["kind"] for letter in started["letters"]] == ["start"]

            clinic.advance(21)
            for episode in (consenting, objecting):
                await clinic.record(
                    episode,
                    "measurements",
                    {
                        "occasion": "evaluation",
                        "evaluation_number": 1,
                        "measurement": {"taken_on": clinic.today(), "qbpds": {"items": [1] * 20}, "nprs": 2},
                    },
                )
                await clinic.record(episode, "closing", {"closed_on": clinic.today(), "reason": "goals_met"})
            finished = await episode_letters(reporting, consenting, 2)
            assert [letter["kind"] for letter in finished["letters"]] == ["start", "final"]
            final_id = finished["letters"][1]["letter_id"]

            html = (await reporting.get(f"/v1/letters/{final_id}", headers=referrer())).text
            name = patient(31)["name"]
            assert name in html and "Weer tuinieren in het voorjaar." in html  # merged in from intake, not stored
            for dutch in ("Eindverslag", "Individuele doelen", "Behandelverloop", "Resultaten (begin en einde)"):
                assert dutch in html
            assert "60" in html and "20" in html  # QBPDS at intake (3×20) and at the end (1×20)
            pdf = await reporting.get(f"/v1/letters/{final_id}/pdf", headers=practice())
            assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
            fhir = await reporting.get(f"/v1/letters/{final_id}/fhir", headers=practice())
            assert Composition.model_validate(fhir.json()).status == "final"
            assert (await reporting.get(f"/v1/letters/{final_id}", headers=referrer("01999999"))).status_code == 404

            # the objection: no letter at all, and the listing says why
            withheld = (await reporting.get(f"/v1/episodes/{objecting}/letters", headers=practice())).json()
            assert withheld == {"episode_id": objecting, "withheld_by_objection": True, "letters": []}

            # a correction is a new letter pointing to the old one; the old one is unchanged
            before = (await reporting.get(f"/v1/letters/{final_id}/fhir", headers=practice())).json()
            corrected = await reporting.post(f"/v1/letters/{final_id}/corrections", headers=practice())
            assert corrected.status_code == 201 and corrected.json()["corrects"] == final_id
            after = (await reporting.get(f"/v1/letters/{final_id}/fhir", headers=practice())).json()
            assert after == before
            correction = (await reporting.get(f"/v1/letters/{corrected.json()['letter_id']}", headers=practice())).text
            assert "vervangt verslag" in correction
            assert (await reporting.post(f"/v1/letters/{final_id}/corrections", headers=referrer())).status_code == 403
        finally:
            await clinic.close()
            await reporting.aclose()

    conn = await asyncpg.connect(fresh_database)
    try:
        composed = await conn.fetch("SELECT stream_id, event_type FROM reporting.events ORDER BY position")
        with pytest.raises(asyncpg.RaiseError, match="never changed"):
            await conn.execute("UPDATE reporting.letters SET kind = 'start'")
        stored = await conn.fetchval("SELECT string_agg(content::text, ' ') FROM reporting.letters")
    finally:
        await conn.close()
    assert {r["stream_id"] for r in composed} == {consenting}
    assert [r["event_type"].rsplit(".", 1)[1] for r in composed].count("ReportComposed") == 3
    assert name not in stored  # the name is shown, never kept in reporting
