"""Letters to the GP, end to end: composed from the episode's events in reporting, shown with the patient's
data and the register's sender and addressee fetched from intake, as HTML, PDF/A, FHIR document and Edifact
MEDVRI; none after an objection; corrections leave the original; 503 while intake cannot be reached."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from services.reporting.documents.letters.medvri import parse_medvri
from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.e2e.test_episode_flow import CARE, DEVIATING, WITHIN, Clinic, clock_file  # noqa: F401 — fixture
from tests.support import patient, practice, referrer

PRACTICE_ENTRY = {
    "name": "Fysiotherapie De Linde",
    "address": {"street": "Lindelaan", "house_number": "12", "postcode": "3511 AB", "city": "Utrecht"},
    "phone": "030-1234567",
    "physiotherapists": [{"agb": "04999001", "big": "19012345601", "name": "M. de Boer"}],
}
REFERRER_ENTRY = {
    "name": "A. Jansen",
    "practice_name": "Huisartsenpraktijk Oudwijk",
    "address": {"street": "Oudwijk", "house_number": "3", "postcode": "3581 TA", "city": "Utrecht"},
}

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
            intake = clinic.intake
            assert (await intake.put("/v1/practices/04123456", json=PRACTICE_ENTRY)).status_code == 200
            assert (await intake.put("/v1/practices/04999999", json=PRACTICE_ENTRY)).status_code == 403
            bad = dict(PRACTICE_ENTRY, physiotherapists=[{"agb": "04999001", "big": "123", "name": "M. de Boer"}])
            refused = await intake.put("/v1/practices/04123456", json=bad)
            assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "physiotherapists.0.big"
            twice = dict(PRACTICE_ENTRY, physiotherapists=PRACTICE_ENTRY["physiotherapists"] * 2)
            refused = await intake.put("/v1/practices/04123456", json=twice)
            assert refused.status_code == 422 and "appears once" in refused.json()["detail"]
            registered = await intake.get("/v1/practices/04123456")
            assert registered.json()["physiotherapists"][0]["big"] == "19012345601"
            put = await intake.put("/v1/referrers/01234567", json=REFERRER_ENTRY, headers=referrer())
            assert put.status_code == 200, put.text
            consenting, objecting = await clinic.refer(31), await clinic.refer(32)
            unknown = await intake.put(f"/v1/episodes/{consenting}/therapist", json={"therapist_agb": "04999002"})
            assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "therapist_agb"
            assigned = await intake.put(f"/v1/episodes/{consenting}/therapist", json={"therapist_agb": "04999001"})
            assert assigned.status_code == 200, assigned.text
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
            name, bsn = patient(31)["name"], patient(31)["bsn"]
            assert name in html and "Weer tuinieren in het voorjaar." in html  # merged in from intake, not stored
            assert f"BSN {bsn}" in html and "Hulpvraag" not in html  # the final letter does not repeat it
            for said in (
                "Fysiotherapie De Linde",
                "A. Jansen",
                "Huisartsenpraktijk Oudwijk",
                "M. de Boer",
                "BIG 19012345601",
                "Geachte collega,",
                "Met collegiale groet,",
            ):
                assert said in html, said
            for dutch in ("Eindverslag", "Doelen en resultaat", "Verloop van intake tot einde", "Metingen"):
                assert dutch in html
            assert "QBPDS: van 60 bij de intake naar 20 aan het einde, verbeterd met 40 punten" in html
            start_html = await reporting.get(f"/v1/letters/{started['letters'][0]['letter_id']}", headers=practice())
            assert "Hulpvraag van de patiënt: Weer kunnen werken" in start_html.text
            assert "geen behandelplan" not in start_html.text
            pdf = await reporting.get(f"/v1/letters/{final_id}/pdf", headers=practice())
            assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
            assert b"pdfaid:part" in pdf.content or b"pdfaid" in pdf.content
            fhir = await reporting.get(f"/v1/letters/{final_id}/fhir", headers=practice())
            assert fhir.headers["content-type"].startswith("application/fhir+json")
            bundle = Bundle.model_validate(fhir.json())
            assert bundle.type == "document" and bundle.entry[0].resource.get_resource_type() == "Composition"
            medvri = await reporting.get(f"/v1/letters/{final_id}/medvri", headers=referrer())
            assert medvri.headers["content-type"].startswith("application/edifact")
            interchange = parse_medvri(medvri.text)
            assert (interchange.sender, interchange.recipient) == ("04123456", "01234567")
            assert (await reporting.get(f"/v1/letters/{final_id}", headers=referrer("01999999"))).status_code == 404

            # the objection: no letter at all, and the listing says why
            withheld = (await reporting.get(f"/v1/episodes/{objecting}/letters", headers=practice())).json()
            assert withheld == {"episode_id": objecting, "withheld_by_objection": True, "letters": []}

            # a correction is a new letter pointing to the old one; the old one is unchanged
            before = (await reporting.get(f"/v1/letters/{final_id}", headers=practice())).text
            corrected = await reporting.post(f"/v1/letters/{final_id}/corrections", headers=practice())
            assert corrected.status_code == 201 and corrected.json()["corrects"] == final_id
            after = (await reporting.get(f"/v1/letters/{final_id}", headers=practice())).text
            assert after == before
            correction = (await reporting.get(f"/v1/letters/{corrected.json()['letter_id']}", headers=practice())).text
            assert "vervangt verslag" in correction
            assert (await reporting.post(f"/v1/letters/{final_id}/corrections", headers=referrer())).status_code == 403

            # intake away: no letter claims the data was erased; 503 and when to ask again
            system.kill("intake")
            for form in ("", "/pdf", "/fhir", "/medvri"):
                away = await reporting.get(f"/v1/letters/{final_id}{form}", headers=practice())
                assert away.status_code == 503 and away.headers["retry-after"] == "5", form
                assert away.headers["content-type"] == "application/problem+json" and "gewist" not in away.text
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
