"""Rules on whether the patient fits the guideline, whether the referral suffices, and hindering factors."""

from pydantic import Field

from .decisions import Decision
from .facts import EpisodeFacts, HinderingFactor, Referral, ScopeFindings
from .memo import memoised
from .reason_codes import ReasonCode
from .references import Reference
from .versions import RuleSet
from .vocabulary import FactorKind, PhysiotherapyInfluence, ScopeStatus

_OUTSIDE_CODES = (
    ReasonCode.OUTSIDE_GENERAL_ILLNESS_SIGNS,
    ReasonCode.OUTSIDE_POSITIVE_NEUROLOGICAL_EXAM,
    ReasonCode.SPECIFIC_CAUSE_SUSPECTED,
)


class ScopeDecision(Decision):
    """Does this patient fit the guideline on aspecific low back pain?"""

    status: ScopeStatus = Field(description="within, outside, or undetermined (exam still required).")
    findings: tuple[Decision, ...] = Field(description="Each finding that shaped the status, with its rule.")
    contact_verwijzer: bool = Field(description="The physiotherapist must contact the referrer.")


class ReferralDecision(Decision):
    """Does the referral contain what the guideline needs (I.I)?"""

    complete: bool = Field(description="Request for help and reason for referral are both stated.")
    missing: tuple[str, ...] = Field(description="Referral fields that are missing.")
    contact_verwijzer: bool = Field(description="The physiotherapist must contact the referrer.")


class HinderingFactorsDecision(Decision):
    """Can physiotherapy influence the factors that maintain the complaints (I.IV)?"""

    influenceable: tuple[FactorKind, ...] = Field(description="Factors physiotherapy can influence.")
    not_only_physiotherapy: tuple[FactorKind, ...] = Field(description="Factors physiotherapy cannot (only) influence.")
    contact_verwijzer: bool = Field(description="The physiotherapist must contact the referrer.")


# Scope, referral and hindering factors each read one part of the facts, fixed from the assessment on: each is
# decided once per part and rule set (`memo`), not at every decision of an episode.


def decide_scope(facts: EpisodeFacts, rules: RuleSet) -> ScopeDecision:
    return _decide_scope(facts.scope, rules)


@memoised
def _decide_scope(scope: ScopeFindings, rules: RuleSet) -> ScopeDecision:
    s = rules.sections
    findings: list[Decision] = []

    def finding(code: ReasonCode, nl: str, en: str, ref: Reference = s.demarcation) -> None:
        findings.append(Decision(code=code, reason_nl=nl, reason_en=en, reference=ref, rule_version=rules.version))

    if scope.general_illness_signs:
        signs = ", ".join(sign.value for sign in scope.general_illness_signs)
        finding(
            ReasonCode.OUTSIDE_GENERAL_ILLNESS_SIGNS,
            f"Algemene ziekteverschijnselen ({signs}) horen niet bij aspecifieke lage-rugpijn: buiten de "
            "richtlijn, neem contact op met de verwijzer.",
            f"General signs of illness ({signs}) are not part of aspecific low back pain: outside the "
            "guideline, contact the referrer.",
        )
    exam = scope.neurological_exam
    if exam is not None and exam.positive:
        finding(
            ReasonCode.OUTSIDE_POSITIVE_NEUROLOGICAL_EXAM,
            "Positieve uitslag van het neurologisch onderzoek (Lasègue, spierkracht, sensibiliteit of "
            "peesreflexen): radiculaire uitstraling valt buiten de richtlijn, neem contact op met de verwijzer.",
            "Positive neurological exam (Lasègue, muscle strength, sensibility or tendon reflexes): radicular "
            "radiation is outside the guideline, contact the referrer.",
            s.examination,
        )
    elif exam is not None and scope.radicular_signs_suspected:
        finding(
            ReasonCode.NEUROLOGICAL_EXAM_NEGATIVE,
            "Radiculaire uitstraling vermoed, maar het neurologisch onderzoek is negatief.",
            "Radicular radiation suspected, but the neurological exam is negative.",
            s.examination,
        )
    elif scope.radicular_signs_suspected:
        finding(
            ReasonCode.NEUROLOGICAL_EXAM_REQUIRED,
            "Radiculaire uitstraling vermoed: voer eerst het neurologisch onderzoek uit (Lasègue, spierkracht, "
            "sensibiliteit, peesreflexen).",
            "Radicular radiation suspected: perform the neurological exam first (Lasègue, muscle strength, "
            "sensibility, tendon reflexes).",
            s.examination,
        )
    if scope.specific_cause_suspected:
        finding(
            ReasonCode.SPECIFIC_CAUSE_SUSPECTED,
            "Vermoeden van een specifieke oorzaak (bijvoorbeeld door veranderende klachten): neem contact op "
            "met de verwijzer.",
            "A specific cause is suspected (e.g. because complaints change over time): contact the referrer.",
            s.analysis,
        )

    outside = [f for f in findings if f.code in _OUTSIDE_CODES]
    exam_required = any(f.code is ReasonCode.NEUROLOGICAL_EXAM_REQUIRED for f in findings)
    if outside:
        status, head = ScopeStatus.OUTSIDE, outside[0]
        code, nl, en, ref = head.code, head.reason_nl, head.reason_en, head.reference
    elif exam_required:
        status = ScopeStatus.UNDETERMINED
        head = next(f for f in findings if f.code is ReasonCode.NEUROLOGICAL_EXAM_REQUIRED)
        code, nl, en, ref = head.code, head.reason_nl, head.reason_en, head.reference
    else:
        status, code, ref = ScopeStatus.WITHIN, ReasonCode.WITHIN_GUIDELINE, s.demarcation
        nl = "Geen algemene ziekteverschijnselen, geen radiculaire uitstraling, geen specifieke oorzaak vermoed."
        en = "No general signs of illness, no radicular radiation, no specific cause suspected."
    return ScopeDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=ref,
        rule_version=rules.version,
        status=status,
        findings=tuple(findings),
        contact_verwijzer=bool(outside),
    )


_ESSENTIAL = {
    "request_for_help_stated": ("hulpvraag", "request for help"),
    "reason_for_referral_stated": ("verwijsreden", "reason for referral"),
}
_SUPPLEMENTARY = {
    "course_of_functioning_stated": ("beloop van het functioneren", "course of functioning"),
    "additional_examinations_stated": ("aanvullend onderzoek", "additional examinations"),
    "prognosis_stated": ("prognose", "prognosis"),
}


def decide_referral(facts: EpisodeFacts, rules: RuleSet) -> ReferralDecision:
    return _decide_referral(facts.referral, rules)


@memoised
def _decide_referral(referral: Referral, rules: RuleSet) -> ReferralDecision:
    missing_essential = [name for name in _ESSENTIAL if not getattr(referral, name)]
    missing_supplementary = [name for name in _SUPPLEMENTARY if not getattr(referral, name)]
    labels = {**_ESSENTIAL, **_SUPPLEMENTARY}
    missing = tuple(missing_essential + missing_supplementary)
    nl_missing = ", ".join(labels[name][0] for name in missing)
    en_missing = ", ".join(labels[name][1] for name in missing)
    if missing_essential:
        code = ReasonCode.REFERRAL_INCOMPLETE
        nl = f"De verwijzing mist: {nl_missing}. Neem contact op met de verwijzer."
        en = f"The referral lacks: {en_missing}. Contact the referrer."
    elif missing_supplementary:
        # Only the request for help and the reason are indispensable; whether the rest is "onvoldoende"
        # is the physiotherapist's judgement, so it is reported without forcing contact.
        code = ReasonCode.REFERRAL_LACKS_SUPPLEMENTARY_DATA
        nl = f"Hulpvraag en verwijsreden zijn aanwezig; ontbrekend: {nl_missing}. Vraag zo nodig na bij de verwijzer."
        en = f"Request for help and reason are present; missing: {en_missing}. Ask the referrer if needed."
    else:
        code = ReasonCode.REFERRAL_COMPLETE
        nl = "De verwijzing bevat de belangrijke verwijsgegevens."
        en = "The referral contains the important referral data."
    return ReferralDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=rules.sections.referral,
        rule_version=rules.version,
        complete=not missing_essential,
        missing=missing,
        contact_verwijzer=bool(missing_essential),
    )


def decide_hindering_factors(facts: EpisodeFacts, rules: RuleSet) -> HinderingFactorsDecision:
    return _decide_hindering_factors(facts.hindering_factors, rules)


@memoised
def _decide_hindering_factors(factors: tuple[HinderingFactor, ...], rules: RuleSet) -> HinderingFactorsDecision:
    influenceable = tuple(f.kind for f in factors if f.influence is PhysiotherapyInfluence.YES)
    not_only = tuple(f.kind for f in factors if f.influence is not PhysiotherapyInfluence.YES)
    if not factors:
        code = ReasonCode.NO_HINDERING_FACTORS
        nl, en = "Geen belemmerende factoren vastgelegd.", "No hindering factors recorded."
    elif not_only:
        code = ReasonCode.HINDERING_FACTORS_NOT_ONLY_PHYSIOTHERAPY
        names = ", ".join(kind.value for kind in not_only)
        nl = (
            f"Belemmerende factoren niet (alleen) door fysiotherapie te beïnvloeden ({names}): "
            "neem contact op met de verwijzer."
        )
        en = f"Hindering factors physiotherapy cannot (only) influence ({names}): contact the referrer."
    else:
        code = ReasonCode.HINDERING_FACTORS_INFLUENCEABLE
        names = ", ".join(kind.value for kind in influenceable)
        nl = f"Belemmerende factoren zijn door fysiotherapie te beïnvloeden ({names}); neem ze op in het plan."
        en = f"Hindering factors can be influenced by physiotherapy ({names}); address them in the plan."
    return HinderingFactorsDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=rules.sections.analysis,
        rule_version=rules.version,
        influenceable=influenceable,
        not_only_physiotherapy=not_only,
        contact_verwijzer=bool(not_only),
    )
