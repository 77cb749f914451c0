"""The entry points: ``evaluate`` (episode facts in, every decision out) and ``compare`` (what-if)."""

from typing import Any

from pydantic import JsonValue

from .assessment import DecisionDifference, GuidelineAssessment, ReferrerContactDecision
from .closing import decide_closing
from .consults import decide_consults
from .course import decide_course
from .decisions import Decision
from .duration import decide_duration, decide_recurrence
from .evaluation import decide_evaluation
from .facts import EpisodeFacts
from .graded_activity import decide_graded_activity
from .instruments import score_measurement
from .plan import decide_indication, decide_plan_check, decide_treatment_plan
from .reason_codes import ReasonCode
from .scope import decide_hindering_factors, decide_referral, decide_scope
from .versions import CURRENT, DEFAULT_REGISTRY, RuleRegistry, RuleSet

# Texts, citations and the version itself differ between versions by construction; a difference that
# matters shows in the code or the outcome fields.
_NOT_OUTCOME = frozenset({"reason_nl", "reason_en", "reference", "rule_version"})


def _referrer_contact(
    facts: EpisodeFacts, rules: RuleSet, asking: list[tuple[bool, Decision]]
) -> ReferrerContactDecision:
    reasons = [d for required, d in asking if required]
    if not reasons:
        return ReferrerContactDecision(
            code=ReasonCode.NO_REFERRER_CONTACT_NEEDED,
            reason_nl="Geen reden om contact op te nemen met de verwijzer.",
            reason_en="No reason to contact the referrer.",
            reference=rules.sections.referral,
            rule_version=rules.version,
            required=False,
            verwijzer=facts.referral.verwijzer,
            reasons=(),
        )
    return ReferrerContactDecision(
        code=ReasonCode.CONTACT_REFERRER,
        reason_nl="Neem contact op met de verwijzer: " + " ".join(d.reason_nl for d in reasons),
        reason_en="Contact the referrer: " + " ".join(d.reason_en for d in reasons),
        reference=reasons[0].reference,
        rule_version=rules.version,
        required=True,
        verwijzer=facts.referral.verwijzer,
        reasons=tuple(d.code for d in reasons),
    )


def evaluate(
    facts: EpisodeFacts, *, version: str = CURRENT, registry: RuleRegistry = DEFAULT_REGISTRY
) -> GuidelineAssessment:
    """Every guideline decision for the episode under one rule version.

    Raises ``UnknownRuleVersion`` when the registry does not hold ``version``.
    """
    rules = registry.get(version)
    duration = decide_duration(facts, rules)
    course = decide_course(facts, rules)
    scope = decide_scope(facts, rules)
    referral = decide_referral(facts, rules)
    factors = decide_hindering_factors(facts, rules)
    scores = tuple(score_measurement(m, rules) for m in sorted(facts.measurements, key=lambda m: m.taken_on))
    evaluation = decide_evaluation(facts, scores, rules)
    treatment = facts.treatment
    graded = (
        decide_graded_activity(treatment.graded_activity, facts.fear_of_movement, rules)
        if treatment is not None and treatment.graded_activity is not None
        else None
    )
    contact_asks: list[tuple[bool, Decision]] = [
        (scope.contact_verwijzer, scope),
        (referral.contact_verwijzer, referral),
        (factors.contact_verwijzer, factors),
    ]
    if evaluation is not None:
        contact_asks.append((evaluation.escalate_to_verwijzer, evaluation))
    contact = _referrer_contact(facts, rules, contact_asks)
    return GuidelineAssessment(
        rule_version=rules.version,
        decision_date=facts.decision_date,
        duration=duration,
        recurrence=decide_recurrence(facts, rules),
        course=course,
        scope=scope,
        referral=referral,
        hindering_factors=factors,
        indication=decide_indication(scope, course, rules),
        treatment_plan=decide_treatment_plan(facts, scope, duration, course, factors, rules),
        plan_check=decide_plan_check(facts, duration, course, rules),
        graded_activity=graded,
        measurements=scores,
        evaluation=evaluation,
        closing=decide_closing(facts, course, rules),
        referrer_contact=contact,
        consults=decide_consults(facts, scores, contact.required, rules),
    )


def _outcome(value: Any) -> JsonValue:
    if isinstance(value, dict):
        return {k: _outcome(v) for k, v in value.items() if k not in _NOT_OUTCOME}
    if isinstance(value, list):
        return [_outcome(v) for v in value]
    return value  # type: ignore[no-any-return]


def _code(value: object) -> ReasonCode | None:
    return value.code if isinstance(value, Decision) else None


def _reason_en(value: object) -> str | None:
    return value.reason_en if isinstance(value, Decision) else None


def compare(
    facts: EpisodeFacts, version_a: str, version_b: str, *, registry: RuleRegistry = DEFAULT_REGISTRY
) -> list[DecisionDifference]:
    """The decisions that would come out differently if the episode were decided under the other version."""
    a = evaluate(facts, version=version_a, registry=registry)
    b = evaluate(facts, version=version_b, registry=registry)
    dumped_a, dumped_b = a.model_dump(mode="json"), b.model_dump(mode="json")
    differences = []
    for name in GuidelineAssessment.model_fields:
        if name == "rule_version":
            continue
        outcome_a, outcome_b = _outcome(dumped_a[name]), _outcome(dumped_b[name])
        if outcome_a == outcome_b:
            continue
        value_a, value_b = getattr(a, name), getattr(b, name)
        differences.append(
            DecisionDifference(
                decision=name,
                version_a=version_a,
                version_b=version_b,
                code_a=_code(value_a),
                code_b=_code(value_b),
                reason_en_a=_reason_en(value_a),
                reason_en_b=_reason_en(value_b),
                outcome_a=outcome_a,
                outcome_b=outcome_b,
            )
        )
    return differences
