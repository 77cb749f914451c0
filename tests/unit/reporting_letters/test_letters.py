"""Letters to the GP: which fall due, what they say in Dutch, and their HTML, PDF and FHIR renderings."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.reporting.letters.content import LetterFacts, compose, fold, letters_due
from services.reporting.letters.render import render_fhir, render_html, render_pdf
from shared.events import clinical
from shared.events.intake import (
    ActivityLogged,
    EpisodeClosed,
    MeasurementRecorded,
    ReportObjectionRecorded,
    SessionRecorded,
    TreatmentPlanAgreed,
    sample_referral,
)
from shared.events.pathway import (
    BeloopClassified,
    EscalatedToReferrer,
    EscalationReason,
    EvaluationCompleted,
    GuidelineReason,
    TreatmentPlanProposed,
)

DAY = date(2026, 11, 23)
REASON = GuidelineReason(
    code="x", reason_nl="Geen toename van activiteiten binnen drie weken.", reason_en="-", section="I.IV Beloop"
)
PERSONAL = {"patient": {"name": "Johanna Vries", "birth_date": "1968-04-12"}, "goals": "Weer een uur wandelen."}


def qbpds(level: int, on: date, occasion="intake", number=None) -> MeasurementRecorded:
    return MeasurementRecorded(
        occasion=occasion,
        evaluation_number=number,
        measurement=clinical.Measurement(taken_on=on, qbpds=clinical.QbpdsAnswers(items=(level,) * 20), nprs=2 * level),
    )


def history() -> list:
    programme = clinical.GradedActivityProgramme(
        start_date=DAY,
        days_to_goal=42,
        activities=(
            clinical.GradedActivity(
                activity="wandelen",
                intensity_unit="km/u",
                baseline=(clinical.ActivityLevel(duration_minutes=10, frequency_per_day=1, intensity=3),),
                goal=clinical.ActivityLevel(duration_minutes=40, frequency_per_day=2, intensity=5),
            ),
        ),
    )
    return [
        sample_referral(referred_on=DAY),
        BeloopClassified(
            beloop="afwijkend",
            classifiable_on=DAY,
            duration_class="chronic",
            recurrent=False,
            indications=(),
            decided_on=DAY,
            reason=REASON,
        ),
        TreatmentPlanProposed(
            physiotherapy_indicated=True,
            fits_guideline=True,
            components=("information_advice", "exercise_therapy_varied_programme"),
            not_advised=(),
            max_sessions=None,
            check_up_on=None,
            flagged_modalities=(),
            decided_on=DAY,
            reason=REASON,
        ),
        qbpds(4, DAY),
        TreatmentPlanAgreed(
            agreed_on=DAY,
            start_date=DAY,
            graded_activity=programme,
            interventions=(clinical.PlannedIntervention(modality="graded_activity", main_component=True),),
        ),
        SessionRecorded(session_on=DAY, session_number=1),
        ActivityLogged(
            day=clinical.LoggedDay(
                activity="wandelen", on=DAY + timedelta(days=2), duration_minutes=15, frequency_per_day=1, intensity=3
            )
        ),
        qbpds(2, DAY + timedelta(days=21), "evaluation", 1),
        EvaluationCompleted(
            evaluation_number=1,
            activities_participation_increased=True,
            treatment_days=21,
            escalate_to_verwijzer=False,
            next_evaluation_due=DAY + timedelta(days=42),
            decided_on=DAY + timedelta(days=21),
            reason=REASON,
        ),
        EpisodeClosed(closed_on=DAY + timedelta(days=42), reason="goals_met"),
    ]


def folded(events) -> LetterFacts:
    facts = LetterFacts()
    for event in events:
        facts = fold(facts, event)
    return facts


def radicular_escalation() -> EscalatedToReferrer:
    return EscalatedToReferrer(
        reason=EscalationReason.RADICULAR_SIGNS,
        decision_code="scope.x",
        explanation_nl="Positieve proef van Lasègue.",
        explanation_en="-",
        guideline_section="I.III Onderzoek",
        referrer_agb="01234567",
    )


def test_fold_leaves_the_facts_it_was_given_as_they_were():
    escalation = radicular_escalation()
    facts = LetterFacts()
    for event in [*history(), escalation]:
        before = facts.model_dump()
        after = fold(facts, event)
        assert facts.model_dump() == before, type(event).__name__  # a list changed in place would show here
        facts = after
    assert facts.measurements and facts.evaluations and facts.escalations and facts.graded[0].logged


def test_a_start_letter_falls_due_after_the_plan_and_a_final_one_at_closing_each_once():
    events = history()
    assert letters_due(folded(events[:4]), set()) == []
    assert letters_due(folded(events[:5]), set()) == [("start", "start")]
    assert letters_due(folded(events), {"start"}) == [("final", "final")]
    assert letters_due(folded(events), {"start", "final"}) == []


def test_an_escalation_calls_for_an_interim_letter_per_reason():
    escalation = radicular_escalation()
    facts = folded([*history()[:2], escalation])
    assert letters_due(facts, set()) == [("interim", "interim:radicular_signs")]
    letter = compose("interim", "interim:radicular_signs", facts, DAY)
    assert letter.sections[0].heading == "Reden van contact"
    assert "Lasègue" in letter.sections[0].paragraphs[0] and "I.III Onderzoek" in letter.sections[0].paragraphs[1]


def test_an_objection_blocks_every_letter():
    events = history()
    objected = folded([events[0], ReportObjectionRecorded(on=DAY), *events[1:]])
    assert letters_due(objected, set()) == []


def test_the_final_letter_has_goals_process_and_results_with_the_measured_values_in_dutch():
    letter = compose("final", "final", folded(history()), DAY + timedelta(days=42))
    headings = [s.heading for s in letter.sections]
    assert headings[:2] == ["Individuele doelen", "Behandelverloop"]
    assert "Resultaten (begin en einde)" in headings and "Graded activity: gepland en gedaan" in headings
    results = next(s for s in letter.sections if s.heading.startswith("Resultaten")).table
    assert results[1][:3] == ["Intake", "23-11-2026", "80"] and results[2][:3] == ["Evaluatie 1", "14-12-2026", "40"]
    process = " ".join(next(s for s in letter.sections if s.heading == "Behandelverloop").paragraphs)
    assert "de doelen zijn bereikt" in process and "namen toe" in process


def test_html_merges_the_patient_from_intake_or_shows_the_erasure():
    letter = compose("final", "final", folded(history()), DAY)
    html = render_html(letter, PERSONAL, practice_agb="04123456", referrer_agb="01234567", corrects=None)
    assert "Johanna Vries" in html and "Weer een uur wandelen." in html and 'lang="nl"' in html
    erased = render_html(letter, None, practice_agb="04123456", referrer_agb="01234567", corrects=None)
    assert "Johanna" not in erased and "gewist op verzoek van de patiënt" in erased
    hostile = dict(PERSONAL, patient={"name": "<script>alert(1)</script>", "birth_date": "x"})
    assert "<script>" not in render_html(letter, hostile, practice_agb=None, referrer_agb=None, corrects=None)


def test_the_pdf_opens_and_has_a_page_with_the_charts():
    pdf = render_pdf(compose("final", "final", folded(history()), DAY), PERSONAL)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/Count 2" in pdf  # the letter page and the page with the charts


@pytest.mark.parametrize("kind", ["start", "final"])
def test_the_fhir_composition_validates_and_points_to_what_it_corrects(kind):
    letter = compose(kind, kind, folded(history()), DAY)
    corrected = str(uuid.uuid4())
    document = render_fhir(
        letter,
        letter_id=str(uuid.uuid4()),
        episode_id=str(uuid.uuid4()),
        practice_agb="04123456",
        referrer_agb="01234567",
        composed_at=datetime(2026, 11, 23, tzinfo=UTC),
        corrects=corrected,
    )
    assert document["resourceType"] == "Composition" and document["status"] == "final"
    assert [s["title"] for s in document["section"]] == [s.heading for s in letter.sections]
    assert document["relatesTo"][0]["targetReference"]["reference"] == f"Composition/{corrected}"
