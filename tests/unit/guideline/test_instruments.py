"""Scoring of QBPDS, PSK, NPRS and STarT Back, and the minimal important change."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pathway.domain.guideline import KNGF_LRP_2003, ReasonCode
from services.pathway.domain.guideline.facts import PskAnswers, QbpdsAnswers, StartBackAnswers
from services.pathway.domain.guideline.instruments import (
    assess_change,
    psk_change,
    round_half_up,
    score_psk,
    score_qbpds,
    score_start_back,
)
from services.pathway.domain.guideline.vocabulary import Instrument, StartBackRisk

RULES = KNGF_LRP_2003
REF = RULES.sections.mcic


def test_qbpds_total_is_the_sum_of_twenty_items() -> None:
    score = score_qbpds(QbpdsAnswers(items=tuple([5] * 10 + [2] * 10)), RULES)
    assert score.total == 70
    assert score.code is ReasonCode.QBPDS_SCORED
    assert score.prorated is False


def test_qbpds_with_two_missing_items_is_prorated_and_says_which() -> None:
    items = [3] * 18 + [None, None]
    score = score_qbpds(QbpdsAnswers(items=tuple(items)), RULES)
    assert score.total == 60
    assert score.prorated is True
    assert score.missing_items == (19, 20)
    assert score.code is ReasonCode.QBPDS_PRORATED


def test_qbpds_with_three_missing_items_is_not_scored() -> None:
    score = score_qbpds(QbpdsAnswers(items=tuple([1] * 17 + [None] * 3)), RULES)
    assert score.total is None
    assert score.code is ReasonCode.QBPDS_NOT_SCORABLE
    assert score.missing_items == (18, 19, 20)


def test_psk_score_is_the_mean_of_the_chosen_activities() -> None:
    answers = PskAnswers.model_validate(
        {"scale": "0-10", "activities": [{"activity": "a", "score": 7}, {"activity": "b", "score": 4}]}
    )
    score = score_psk(answers, RULES)
    assert score.mean_score == 5.5
    assert score.activity_count == 2


def _start_back(agreed: list[int], item_9: str) -> StartBackAnswers:
    return StartBackAnswers(agreed_items_1_to_8=tuple(bool(i) for i in agreed), item_9_bothersomeness=item_9)


@pytest.mark.parametrize(
    ("agreed", "item_9", "total", "psychosocial", "risk"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0], "not_at_all", 0, 0, StartBackRisk.LOW),
        ([1, 1, 1, 0, 0, 0, 0, 0], "moderately", 3, 0, StartBackRisk.LOW),
        ([1, 1, 1, 1, 0, 0, 0, 0], "slightly", 4, 0, StartBackRisk.MEDIUM),
        ([0, 0, 0, 0, 1, 1, 1, 0], "very_much", 4, 4, StartBackRisk.HIGH),
        ([1, 1, 1, 1, 1, 1, 1, 0], "moderately", 7, 3, StartBackRisk.MEDIUM),
        ([1, 1, 1, 1, 1, 1, 1, 1], "extremely", 9, 5, StartBackRisk.HIGH),
    ],
)
def test_start_back_risk_follows_total_and_psychosocial_subscale(
    agreed: list[int], item_9: str, total: int, psychosocial: int, risk: StartBackRisk
) -> None:
    score = score_start_back(_start_back(agreed, item_9), RULES)
    assert (score.total, score.psychosocial, score.risk) == (total, psychosocial, risk)


@pytest.mark.parametrize(
    ("instrument", "baseline", "follow_up", "mic", "important", "code"),
    [
        (Instrument.QBPDS, 80, 60, 20, True, ReasonCode.CHANGE_IMPORTANT_IMPROVEMENT),
        (Instrument.QBPDS, 80, 61, 20, False, ReasonCode.CHANGE_BELOW_IMPORTANT),
        (Instrument.QBPDS, 40, 28, 20, True, ReasonCode.CHANGE_IMPORTANT_IMPROVEMENT),  # 30 %
        (Instrument.QBPDS, 40, 29, 20, False, ReasonCode.CHANGE_BELOW_IMPORTANT),  # 27.5 %
        (Instrument.QBPDS, 40, 45, 20, False, ReasonCode.CHANGE_WORSENED),
        (Instrument.NPRS, 8, 6, 2, True, ReasonCode.CHANGE_IMPORTANT_IMPROVEMENT),
        (Instrument.NPRS, 8, 7, 2, False, ReasonCode.CHANGE_BELOW_IMPORTANT),
        (Instrument.NPRS, 3, 2, 2, True, ReasonCode.CHANGE_IMPORTANT_IMPROVEMENT),  # 33 %
        (Instrument.NPRS, 0, 0, 2, False, ReasonCode.CHANGE_BELOW_IMPORTANT),
    ],
)
def test_minimal_important_change_is_points_or_thirty_percent(
    instrument: Instrument, baseline: float, follow_up: float, mic: float, important: bool, code: ReasonCode
) -> None:
    change = assess_change(instrument, baseline, follow_up, mic, RULES, REF)
    assert change.important is important
    assert change.code is code


def _psk(scale: str, scores: dict[str, int]) -> PskAnswers:
    return PskAnswers.model_validate(
        {"scale": scale, "activities": [{"activity": k, "score": v} for k, v in scores.items()]}
    )


@pytest.mark.parametrize(
    ("scale", "before", "after", "important"),
    [
        ("0-10", 9, 7, True),
        ("0-10", 9, 8, False),
        ("0-100", 90, 75, True),
        ("0-100", 90, 76, False),
        ("0-100", 40, 28, True),  # 30 %
    ],
)
def test_psk_minimal_important_change_is_two_on_nrs_fifteen_on_vas_or_thirty_percent(
    scale: str, before: int, after: int, important: bool
) -> None:
    change = psk_change(_psk(scale, {"lopen": before}), _psk(scale, {"lopen": after}), RULES)
    assert change.important is important


def test_psk_change_uses_only_activities_scored_at_both_moments() -> None:
    first = _psk("0-10", {"lopen": 8, "zitten": 6})
    last = _psk("0-10", {"Lopen": 5, "fietsen": 1})
    change = psk_change(first, last, RULES)
    assert (change.baseline, change.follow_up) == (8, 5)


@pytest.mark.parametrize(
    ("first", "last"),
    [(_psk("0-10", {"lopen": 8}), _psk("0-100", {"lopen": 20})), (_psk("0-10", {"a": 8}), _psk("0-10", {"b": 2}))],
)
def test_psk_change_on_other_scale_or_other_activities_is_not_comparable(first: PskAnswers, last: PskAnswers) -> None:
    change = psk_change(first, last, RULES)
    assert change.code is ReasonCode.CHANGE_NOT_COMPARABLE
    assert change.important is False


def test_rounding_is_half_up_not_half_even() -> None:
    assert round_half_up(2.5) == 3
    assert round_half_up(0.125, 2) == 0.13


@settings(max_examples=80, deadline=None)
@given(items=st.lists(st.integers(0, 5), min_size=20, max_size=20), index=st.integers(0, 19))
def test_qbpds_total_never_decreases_when_an_item_increases(items: list[int], index: int) -> None:
    higher = list(items)
    higher[index] = min(5, higher[index] + 1)
    low = score_qbpds(QbpdsAnswers(items=tuple(items)), RULES).total
    high = score_qbpds(QbpdsAnswers(items=tuple(higher)), RULES).total
    assert low is not None and high is not None
    assert high >= low
    assert 0 <= low <= 100


@settings(max_examples=80, deadline=None)
@given(scores=st.lists(st.integers(0, 9), min_size=1, max_size=5), index=st.integers(0, 4))
def test_psk_mean_never_decreases_when_an_activity_gets_harder(scores: list[int], index: int) -> None:
    index %= len(scores)
    harder = list(scores)
    harder[index] += 1
    names = [f"activity {n}" for n in range(len(scores))]
    low = score_psk(_psk("0-10", dict(zip(names, scores, strict=True))), RULES).mean_score
    high = score_psk(_psk("0-10", dict(zip(names, harder, strict=True))), RULES).mean_score
    assert high > low


RISK_ORDER = [StartBackRisk.LOW, StartBackRisk.MEDIUM, StartBackRisk.HIGH]


@settings(max_examples=80, deadline=None)
@given(agreed=st.lists(st.booleans(), min_size=8, max_size=8), index=st.integers(0, 7))
def test_start_back_risk_never_decreases_when_the_patient_agrees_with_one_more_item(
    agreed: list[bool], index: int
) -> None:
    more = list(agreed)
    more[index] = True
    before = score_start_back(
        StartBackAnswers(agreed_items_1_to_8=tuple(agreed), item_9_bothersomeness="slightly"), RULES
    )
    after = score_start_back(StartBackAnswers(agreed_items_1_to_8=tuple(more), item_9_bothersomeness="slightly"), RULES)
    assert after.total >= before.total
    assert RISK_ORDER.index(after.risk) >= RISK_ORDER.index(before.risk)
