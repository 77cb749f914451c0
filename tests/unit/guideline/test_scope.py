"""Fits the guideline or not, referral completeness, and hindering factors: who must contact the referrer."""

import pytest

from services.pathway.domain.guideline import ReasonCode, evaluate
from services.pathway.domain.guideline.vocabulary import ScopeStatus

from .builders import facts

NEGATIVE_EXAM = {
    "lasegue_positive": False,
    "muscle_strength_reduced": False,
    "sensibility_disturbed": False,
    "tendon_reflexes_abnormal": False,
}


@pytest.mark.parametrize("signs", [["fever"], ["weight_loss"], ["fever", "weight_loss"], ["other"]])
def test_general_illness_signs_put_the_patient_outside_and_ask_for_referrer_contact(signs: list[str]) -> None:
    assessment = evaluate(facts(scope={"general_illness_signs": signs}))
    assert assessment.scope.status is ScopeStatus.OUTSIDE
    assert assessment.scope.code is ReasonCode.OUTSIDE_GENERAL_ILLNESS_SIGNS
    assert assessment.referrer_contact.required is True
    assert ReasonCode.OUTSIDE_GENERAL_ILLNESS_SIGNS in assessment.referrer_contact.reasons
    assert assessment.treatment_plan is None
    assert assessment.indication.fits_guideline is False


@pytest.mark.parametrize("positive_test", sorted(NEGATIVE_EXAM))
def test_any_positive_neurological_test_puts_the_patient_outside(positive_test: str) -> None:
    exam = {**NEGATIVE_EXAM, positive_test: True}
    assessment = evaluate(facts(scope={"radicular_signs_suspected": True, "neurological_exam": exam}))
    assert assessment.scope.status is ScopeStatus.OUTSIDE
    assert assessment.scope.code is ReasonCode.OUTSIDE_POSITIVE_NEUROLOGICAL_EXAM
    assert assessment.scope.reference.label == "I.III Onderzoek"
    assert assessment.referrer_contact.required is True


def test_suspected_radicular_signs_without_exam_leave_scope_undetermined_and_withhold_the_plan() -> None:
    assessment = evaluate(facts(scope={"radicular_signs_suspected": True}))
    assert assessment.scope.status is ScopeStatus.UNDETERMINED
    assert assessment.scope.code is ReasonCode.NEUROLOGICAL_EXAM_REQUIRED
    assert assessment.indication.code is ReasonCode.INDICATION_PENDING_NEUROLOGICAL_EXAM
    assert assessment.treatment_plan is None
    assert assessment.referrer_contact.required is False


def test_negative_exam_after_suspected_radicular_signs_keeps_the_patient_within() -> None:
    assessment = evaluate(facts(scope={"radicular_signs_suspected": True, "neurological_exam": NEGATIVE_EXAM}))
    assert assessment.scope.status is ScopeStatus.WITHIN
    assert [f.code for f in assessment.scope.findings] == [ReasonCode.NEUROLOGICAL_EXAM_NEGATIVE]
    assert assessment.treatment_plan is not None


def test_suspected_specific_cause_means_outside_and_contact_referrer() -> None:
    assessment = evaluate(facts(scope={"specific_cause_suspected": True}))
    assert assessment.scope.status is ScopeStatus.OUTSIDE
    assert assessment.scope.code is ReasonCode.SPECIFIC_CAUSE_SUSPECTED
    assert assessment.scope.reference.label == "I.IV Analyse"
    assert assessment.referrer_contact.required is True


def test_all_outside_reasons_are_listed_as_findings() -> None:
    assessment = evaluate(facts(scope={"general_illness_signs": ["fever"], "specific_cause_suspected": True}))
    assert [f.code for f in assessment.scope.findings] == [
        ReasonCode.OUTSIDE_GENERAL_ILLNESS_SIGNS,
        ReasonCode.SPECIFIC_CAUSE_SUSPECTED,
    ]


@pytest.mark.parametrize("missing", ["request_for_help_stated", "reason_for_referral_stated"])
def test_referral_without_request_for_help_or_reason_asks_for_referrer_contact(missing: str) -> None:
    assessment = evaluate(facts(referral={missing: False}))
    assert assessment.referral.code is ReasonCode.REFERRAL_INCOMPLETE
    assert assessment.referral.missing == (missing,)
    assert assessment.referral.reference.label == "I.I Verwijzing/aanmelding"
    assert assessment.referrer_contact.required is True
    assert assessment.referrer_contact.reasons == (ReasonCode.REFERRAL_INCOMPLETE,)


def test_referral_lacking_only_supplementary_data_is_reported_without_forcing_contact() -> None:
    assessment = evaluate(facts(referral={"prognosis_stated": False, "additional_examinations_stated": False}))
    assert assessment.referral.code is ReasonCode.REFERRAL_LACKS_SUPPLEMENTARY_DATA
    assert assessment.referral.complete is True
    assert assessment.referral.missing == ("additional_examinations_stated", "prognosis_stated")
    assert assessment.referrer_contact.required is False


@pytest.mark.parametrize(("influence", "contact"), [("yes", False), ("partly", True), ("no", True)])
def test_hindering_factors_physiotherapy_cannot_only_influence_ask_for_referrer_contact(
    influence: str, contact: bool
) -> None:
    assessment = evaluate(facts(hindering_factors=[{"kind": "support_at_home", "influence": influence}]))
    assert assessment.hindering_factors.contact_verwijzer is contact
    assert assessment.referrer_contact.required is contact
    expected = (
        ReasonCode.HINDERING_FACTORS_NOT_ONLY_PHYSIOTHERAPY if contact else ReasonCode.HINDERING_FACTORS_INFLUENCEABLE
    )
    assert assessment.hindering_factors.code is expected


def test_no_findings_means_within_and_no_referrer_contact() -> None:
    assessment = evaluate(facts())
    assert assessment.scope.status is ScopeStatus.WITHIN
    assert assessment.referrer_contact.code is ReasonCode.NO_REFERRER_CONTACT_NEEDED
    assert assessment.referrer_contact.reasons == ()
