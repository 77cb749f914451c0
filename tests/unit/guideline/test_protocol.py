"""A network's protocol: values within the guideline's room (refused otherwise, with field and reason), layered on
the guideline's rules so the engine decides by them, and the protocol in force by its effective date."""

from datetime import date

import pytest
from pydantic import ValidationError

from services.pathway.domain.guideline import CURRENT, KNGF_LRP_2003, ReasonCode, RuleRegistry, evaluate
from services.pathway.domain.protocol import (
    GUIDELINE_PROTOCOL,
    AdoptedProtocol,
    Protocol,
    ProtocolValues,
    check_guideline,
    in_force,
    rules_under,
)

from .builders import deviating_course, facts, measurement, qbpds

START = "2024-05-27"


def decide(protocol: Protocol, *measurements: dict):
    rules = rules_under(protocol)
    episode = facts(
        onset_date="2024-01-10",
        course=deviating_course(),
        measurements=list(measurements),
        treatment={"start_date": START},
    )
    return evaluate(episode, version=rules.version, registry=RuleRegistry([rules])).evaluation


def protocol(version: str = "rug-2027.1", **values: int) -> Protocol:
    return Protocol(version=version, values=ProtocolValues(**values))


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"evaluation_interval_days": 49}, "evaluation_interval_days", "less than or equal to 42"),
        ({"evaluation_interval_days": 0}, "evaluation_interval_days", "greater than or equal to 7"),
        ({"evaluation_interval_days": 25}, "evaluation_interval_days", "whole weeks"),
        ({"no_effect_escalation_days": 28}, "no_effect_escalation_days", "less than or equal to 21"),
        ({"no_effect_escalation_days": 7}, "no_effect_escalation_days", "greater than or equal to 14"),
        ({"overdue_grace_days": -1}, "overdue_grace_days", "greater than or equal to 0"),
        ({"normal_course_max_sessions": 3}, "normal_course_max_sessions", "less than or equal to 2"),
        ({"bed_rest_max_days": 5}, "bed_rest_max_days", "Extra inputs are not permitted"),
    ],
)
def test_a_value_outside_the_guidelines_room_or_unknown_is_refused_with_field_and_reason(values, field, reason):
    with pytest.raises(ValidationError) as refused:
        ProtocolValues.model_validate(values)
    [error] = refused.value.errors()
    assert error["loc"] == (field,)
    assert reason in error["msg"]


def test_the_guideline_as_written_is_the_guidelines_own_rules():
    rules = rules_under(GUIDELINE_PROTOCOL)
    assert rules == KNGF_LRP_2003
    assert GUIDELINE_PROTOCOL.overdue_grace.days == 7 and GUIDELINE_PROTOCOL.evaluation_interval.days == 21


def test_the_engine_decides_by_the_protocols_values_and_keeps_the_guidelines_version():
    every_four_weeks = protocol(evaluation_interval_days=28)
    progress = (measurement(START, qbpds=qbpds(60)), measurement("2024-06-17", qbpds=qbpds(40)))
    assert decide(GUIDELINE_PROTOCOL, *progress).next_evaluation_due == date(2024, 7, 8)
    under_protocol = decide(every_four_weeks, *progress)
    assert under_protocol.next_evaluation_due == date(2024, 7, 15)
    assert under_protocol.rule_version == CURRENT

    no_effect_at_two_weeks = (measurement(START, qbpds=qbpds(60)), measurement("2024-06-10", qbpds=qbpds(58)))
    assert decide(GUIDELINE_PROTOCOL, *no_effect_at_two_weeks).code is ReasonCode.EVALUATION_NO_EFFECT_YET
    sooner = decide(protocol(no_effect_escalation_days=14), *no_effect_at_two_weeks)
    assert sooner.code is ReasonCode.EVALUATION_NO_EFFECT_ESCALATE and sooner.escalate_to_verwijzer


def test_a_protocol_on_an_unknown_guideline_version_is_named_as_such():
    assert check_guideline(GUIDELINE_PROTOCOL) is None
    assert "unknown rule version 'kngf-lrp-2099'" in check_guideline(
        Protocol(version="x", guideline_version="kngf-lrp-2099")
    )


def test_the_protocol_in_force_is_the_latest_adopted_whose_date_has_come():
    first, second, same_day = protocol("v1"), protocol("v2", evaluation_interval_days=28), protocol("v3")
    adopted = [
        AdoptedProtocol(protocol=first, effective_from=date(2027, 1, 1)),
        AdoptedProtocol(protocol=second, effective_from=date(2027, 6, 1)),
    ]
    assert in_force(adopted, date(2026, 12, 31)) is GUIDELINE_PROTOCOL
    assert in_force(adopted, date(2027, 1, 1)) is first
    assert in_force(adopted, date(2027, 5, 31)) is first
    assert in_force(adopted, date(2027, 6, 1)) is second
    later_same_day = [*adopted, AdoptedProtocol(protocol=same_day, effective_from=date(2027, 6, 1))]
    assert in_force(later_same_day, date(2027, 7, 1)) is same_day
    # adopted out of date order (a correction dated earlier): the dates decide, not the order of adoption
    assert in_force(list(reversed(adopted)), date(2027, 3, 1)) is first
