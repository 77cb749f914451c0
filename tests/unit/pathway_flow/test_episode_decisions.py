"""The decision fold's own bookkeeping: what it keeps of an episode between two intake events (the memory `react`
weighs, the last assessment) is what rebuilding it from the episode's events would give."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings

from deploy.intake_history import episode_events
from services.pathway.domain.episode_decisions import EpisodeState, IntakeFact, RulesCache, decide
from services.pathway.domain.episode_facts import build_facts
from services.pathway.domain.evaluation_plan import EvaluationPlan
from services.pathway.domain.guideline import evaluate
from services.pathway.domain.protocol import GUIDELINE_PROTOCOL, Protocol, ProtocolValues
from services.pathway.domain.reactions import PathwayMemory
from tests.unit.pathway_flow.cohort import episode_spec

RULES = RulesCache()
GUIDELINE = RULES.of(GUIDELINE_PROTOCOL)
FOUR_WEEKS = RULES.of(Protocol(version="vier-weken", values=ProtocolValues(evaluation_interval_days=28)))


def facts_of(spec: dict) -> list[IntakeFact]:
    events = episode_events(spec, 1)
    return [IntakeFact(version, moment, payload) for version, (moment, payload) in enumerate(events, start=1)]


SPEC = {
    "referred": 0,
    "minute": 0,
    "onset_days": 30,
    "deviating": False,
    "radicular": False,
    "start_after": 2,
    "evaluations": [],
    "baseline": 4,
    "closed_after": None,
}


@settings(max_examples=60, deadline=None)
@given(episode_spec)
def test_the_memory_folded_on_event_by_event_is_the_memory_rebuilt_from_all_decisions(spec):
    state = EpisodeState(0, EvaluationPlan("e-1"), referrer_agb="01234567")
    for fact in facts_of(spec):
        state.intake_events.append((fact.stream_version, fact.payload))
        decide(state, fact, GUIDELINE)
        assert state.memory() == PathwayMemory.rebuild(state.decided)


def test_decisions_made_are_returned_and_kept_in_order():
    state = EpisodeState(0, EvaluationPlan("e-1"), referrer_agb="01234567")
    returned = []
    for fact in facts_of({**SPEC, "evaluations": [(21, 2)]}):
        state.intake_events.append((fact.stream_version, fact.payload))
        made, _ = decide(state, fact, GUIDELINE)
        returned += made
    assert returned == state.decided
    assert {type(p).__name__ for p in returned} >= {"EvaluationScheduled", "BeloopClassified", "TreatmentPlanProposed"}


def test_equal_facts_under_the_same_rules_are_assessed_once_and_other_rules_assess_again():
    payloads = [fact.payload for fact in facts_of(SPEC)]
    day = facts_of(SPEC)[-1].occurred_at.date()
    facts, same_facts = build_facts(payloads, day), build_facts(list(payloads), day)
    assert facts is not None and same_facts is not None
    assert facts == same_facts and facts is not same_facts
    state = EpisodeState(0, EvaluationPlan("e-1"))

    first = state.assess(facts, GUIDELINE)
    assert first == evaluate(facts)
    assert state.assess(same_facts, GUIDELINE) is first

    under_draft = state.assess(facts, FOUR_WEEKS)
    assert under_draft is not first
    assert under_draft == evaluate(facts, version=FOUR_WEEKS.rule_set.version, registry=FOUR_WEEKS.registry)

    later = build_facts(payloads, day + timedelta(days=1))
    assert later is not None and later != facts
    assert state.assess(later, GUIDELINE).decision_date == later.decision_date
