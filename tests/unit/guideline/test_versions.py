"""Versioned rules: the registry, every decision carrying its version, and the what-if comparison."""

import pytest

from services.pathway.domain.guideline import (
    CURRENT,
    DEFAULT_REGISTRY,
    KNGF_LRP_2003,
    DurationClass,
    ReasonCode,
    UnknownRuleVersion,
    compare,
    evaluate,
)
from services.pathway.domain.guideline.vocabulary import Modality, ModalityAdvice

from .builders import all_decisions, days_ago, facts

# Test-only variant: the acute class ends after four weeks. Not clinical content; it proves the mechanism.
SHORT_ACUTE = KNGF_LRP_2003.model_copy(update={"version": "test-acute-28-days", "acute_max_days": 28})
REGISTRY = DEFAULT_REGISTRY.with_rule_set(SHORT_ACUTE)


def test_the_2003_text_is_the_current_version() -> None:
    assert CURRENT == "kngf-lrp-2003"
    assert DEFAULT_REGISTRY.versions() == ("kngf-lrp-2003",)
    assert DEFAULT_REGISTRY.get(CURRENT) is KNGF_LRP_2003


def test_unknown_version_is_refused_and_names_the_known_ones() -> None:
    with pytest.raises(UnknownRuleVersion) as caught:
        evaluate(facts(), version="kngf-lrp-1999")
    assert caught.value.known == ("kngf-lrp-2003",)


def test_registering_a_version_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        REGISTRY.with_rule_set(SHORT_ACUTE)


def test_every_decision_carries_the_version_it_was_made_under() -> None:
    episode = facts(
        onset_date=days_ago(30),
        course={"complaints": "same"},
        measurements=[{"taken_on": days_ago(1), "nprs": 4}],
        treatment={"start_date": days_ago(10), "interventions": [{"modality": "massage", "main_component": False}]},
        care_context={"work_problems": True},
        closing={"reason": "goals_met", "closed_on": days_ago(0), "gp_report_consent": "given"},
    )
    for version in ("kngf-lrp-2003", "test-acute-28-days"):
        assessment = evaluate(episode, version=version, registry=REGISTRY)
        decisions = all_decisions(assessment)
        assert len(decisions) >= 15
        assert {d.rule_version for d in decisions} == {version}
        assert assessment.rule_version == version


def test_a_recorded_episode_rerun_under_another_version_lists_the_decisions_that_differ() -> None:
    episode = facts(onset_date=days_ago(30), course={"complaints": "same"})
    assert evaluate(episode, version="test-acute-28-days", registry=REGISTRY).duration.duration_class is (
        DurationClass.SUBACUTE
    )
    differences = compare(episode, CURRENT, "test-acute-28-days", registry=REGISTRY)
    by_name = {d.decision: d for d in differences}
    assert "duration" in by_name
    duration = by_name["duration"]
    assert (duration.code_a, duration.code_b) == (ReasonCode.DURATION_ACUTE, ReasonCode.DURATION_SUBACUTE)
    assert duration.outcome_a["duration_class"] == "acute"  # type: ignore[index]
    assert duration.outcome_b["duration_class"] == "subacute"  # type: ignore[index]
    # The acute plan advises bed rest of at most two days; the subacute plan does not.
    assert "treatment_plan" in by_name
    assert set(by_name) == {"duration", "treatment_plan"}


def test_same_facts_under_the_same_version_have_no_differences() -> None:
    assert compare(facts(onset_date=days_ago(30)), CURRENT, CURRENT) == []


def test_versions_agree_where_their_rules_agree() -> None:
    assert compare(facts(onset_date=days_ago(20)), CURRENT, "test-acute-28-days", registry=REGISTRY) == []


def test_shipped_rules_cannot_be_rewritten_by_a_caller() -> None:
    with pytest.raises(TypeError):
        KNGF_LRP_2003.modality_advice[Modality.TRACTION] = ModalityAdvice.RECOMMENDED  # type: ignore[index]
    assert KNGF_LRP_2003.modality_advice[Modality.TRACTION] is ModalityAdvice.NOT_ADVISED
