"""Closing with the final report (consent or objection), and multidisciplinary consult proposals."""

import pytest

from services.pathway.domain.guideline import Hulpverlener, ReasonCode, Verwijzer, evaluate
from services.pathway.domain.guideline.vocabulary import ReportContent

from .builders import deviating_course, facts, measurement

TREATMENT = {"start_date": "2024-05-27"}


def _closed(reason: str, consent: str = "given", **changes):
    closing = {"reason": reason, "closed_on": "2024-06-18", "gp_report_consent": consent}
    return evaluate(facts(treatment=TREATMENT, closing=closing, **changes)).closing


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("goals_met", ReasonCode.CLOSED_GOALS_MET),
        ("patient_stops", ReasonCode.CLOSED_PATIENT_STOPS),
        ("escalated_to_verwijzer", ReasonCode.CLOSED_ESCALATED),
    ],
)
def test_closing_reason_is_recorded_with_a_report_of_goals_process_and_results(reason: str, code: ReasonCode) -> None:
    closing = _closed(reason, course=deviating_course())
    assert closing is not None and closing.code is code
    assert closing.report.send is True
    assert closing.report.recipients == (Verwijzer.HUISARTS,)
    for item in (ReportContent.INDIVIDUAL_GOALS, ReportContent.TREATMENT_PROCESS, ReportContent.TREATMENT_RESULTS):
        assert item in closing.report.contents
    assert (ReportContent.ESCALATION_REASON in closing.report.contents) is (reason == "escalated_to_verwijzer")
    assert closing.reference.label == "II.IV Afsluiting, verslaggeving en verslaglegging"


def test_patient_objection_means_no_report_and_a_recorded_objection() -> None:
    closing = _closed("goals_met", consent="objected")
    assert closing is not None
    assert closing.report.code is ReasonCode.REPORT_WITHHELD_PATIENT_OBJECTED
    assert closing.report.send is False
    assert closing.report.recipients == ()
    assert closing.report.objection_recorded is True


def test_specialist_referral_reports_to_the_specialist_and_the_gp() -> None:
    closing = _closed("goals_met", referral={"verwijzer": "medisch_specialist"})
    assert closing is not None
    assert closing.report.recipients == (Verwijzer.MEDISCH_SPECIALIST, Verwijzer.HUISARTS)


def test_normal_course_report_contains_diagnostic_findings_and_advice() -> None:
    closing = _closed("goals_met")
    assert closing is not None
    assert ReportContent.DIAGNOSTIC_FINDINGS in closing.report.contents
    assert ReportContent.ADVICE_GIVEN in closing.report.contents


def test_no_closing_while_treatment_continues() -> None:
    assert evaluate(facts(treatment=TREATMENT)).closing is None


HIGH_RISK = {
    "agreed_items_1_to_8": [False, False, False, False, True, True, True, False],
    "item_9_bothersomeness": "extremely",
}


@pytest.mark.parametrize(
    ("changes", "who", "code"),
    [
        (
            {"course": {"analgesic_use": "continuing"}},
            Hulpverlener.APOTHEKER,
            ReasonCode.CONSULT_APOTHEKER_PAIN_MEDICATION,
        ),
        (
            {"care_context": {"pain_medication_questions": True}},
            Hulpverlener.APOTHEKER,
            ReasonCode.CONSULT_APOTHEKER_PAIN_MEDICATION,
        ),
        (
            {"care_context": {"weight_or_nutrition_concern": True}},
            Hulpverlener.DIETIST,
            ReasonCode.CONSULT_DIETIST_WEIGHT_NUTRITION,
        ),
        (
            {"hindering_factors": [{"kind": "fear_of_movement", "influence": "yes"}]},
            Hulpverlener.POH_GGZ,
            ReasonCode.CONSULT_POH_GGZ_PSYCHOSOCIAL,
        ),
        ({"coping": "inadequate"}, Hulpverlener.POH_GGZ, ReasonCode.CONSULT_POH_GGZ_PSYCHOSOCIAL),
        (
            {"measurements": [measurement("2024-06-19", start_back=HIGH_RISK)]},
            Hulpverlener.POH_GGZ,
            ReasonCode.CONSULT_POH_GGZ_PSYCHOSOCIAL,
        ),
        ({"care_context": {"work_problems": True}}, Hulpverlener.BEDRIJFSARTS, ReasonCode.CONSULT_BEDRIJFSARTS_WORK),
        (
            {"referral": {"verwijzer": "medisch_specialist"}, "scope": {"specific_cause_suspected": True}},
            Hulpverlener.HUISARTS,
            ReasonCode.CONSULT_HUISARTS_OVERVIEW,
        ),
    ],
)
def test_each_circumstance_proposes_its_discipline_as_a_proposal_only(
    changes: dict, who: Hulpverlener, code: ReasonCode
) -> None:
    [proposal] = evaluate(facts(**changes)).consults
    assert proposal.hulpverlener is who
    assert proposal.code is code
    assert proposal.proposal_only is True


def test_referrer_contact_with_gp_as_referrer_proposes_no_extra_gp_consult() -> None:
    assert evaluate(facts(scope={"specific_cause_suspected": True})).consults == ()


def test_no_circumstances_propose_no_consults() -> None:
    assert evaluate(facts()).consults == ()
