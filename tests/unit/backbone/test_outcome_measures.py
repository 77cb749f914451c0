"""The outcome measures' scoring (`shared.outcome_measures`): one versioned source that the pathway's guideline
engine and reporting's letters and network view both score with, so the two cannot drift apart."""

import itertools
from decimal import Decimal

from services.pathway.domain.guideline.facts import QbpdsAnswers
from services.pathway.domain.guideline.instruments import assess_change, score_qbpds
from services.pathway.domain.guideline.versions import CURRENT, DEFAULT_REGISTRY
from services.pathway.domain.guideline.vocabulary import Instrument
from services.reporting.domain import outcomes
from services.reporting.domain.outcomes import NPRS_MCIC_POINTS, PSK_MCIC_POINTS, QBPDS_MCIC_POINTS, change
from shared.outcome_measures import KNGF_LRP_2003, QBPDS_ITEMS, VERSIONS, psk_activity_key, psk_means

RULES = DEFAULT_REGISTRY.get(CURRENT)
MEASURES = VERSIONS[CURRENT]


def test_the_pathway_and_reporting_score_with_the_one_version_of_the_current_rule_set():
    assert MEASURES is KNGF_LRP_2003 and MEASURES.version == CURRENT
    assert RULES.outcome_measures is MEASURES
    assert outcomes.SCORED_WITH == CURRENT and outcomes.MEASURES is MEASURES


def test_the_thresholds_are_ostelos_and_the_engines_proration():
    assert QBPDS_ITEMS == 20
    rules = RULES.outcome_measures
    assert MEASURES.qbpds_max_missing_items == rules.qbpds_max_missing_items == 2
    assert QBPDS_MCIC_POINTS == rules.qbpds_mic_points == 20
    assert NPRS_MCIC_POINTS == rules.nprs_mic_points == 2
    assert (
        PSK_MCIC_POINTS
        == {"0-10": rules.psk_mic_points_nrs_0_10, "0-100": rules.psk_mic_points_vas_0_100}
        == {"0-10": 2, "0-100": 15}
    )
    assert MEASURES.mic_relative_percent == rules.mic_relative_percent == 30


def test_the_qbpds_total_is_the_same_in_the_guideline_engine_and_in_reporting_with_and_without_missing_items():
    for missing in range(4):
        for fill in range(6):
            for shift in range(QBPDS_ITEMS):
                items = [(fill + i * 7 + shift) % 6 for i in range(QBPDS_ITEMS)]
                for at in range(missing):
                    items[(shift + at * 5) % QBPDS_ITEMS] = None
                total = MEASURES.qbpds_total(items)
                assert outcomes.qbpds_total(items) == total
                assert total == score_qbpds(QbpdsAnswers(items=tuple(items)), RULES).total
                assert (total is None) == (missing > 2)


def test_whether_a_change_is_important_is_the_same_in_the_guideline_engine_and_in_reporting():
    for before, after in itertools.product(range(0, 101, 3), range(0, 101, 7)):
        engine = assess_change(
            Instrument.QBPDS, before, after, RULES.outcome_measures.qbpds_mic_points, RULES, RULES.sections.mcic
        )
        assert change(before, after, QBPDS_MCIC_POINTS).important == engine.important
    for before, after in itertools.product(range(11), range(11)):
        engine = assess_change(
            Instrument.NPRS, before, after, RULES.outcome_measures.nprs_mic_points, RULES, RULES.sections.mcic
        )
        assert change(before, after, NPRS_MCIC_POINTS).important == engine.important


def test_a_change_is_weighed_in_decimals_as_the_clinician_reads_it_not_in_binary_fractions():
    # 8.2 - 6.2 is 1.9999999999999991 in binary floating point: still an improvement of exactly 2 points.
    assert MEASURES.important_change(Decimal("8.2"), Decimal("6.2"), MEASURES.psk_mic_points("0-10"))
    engine = assess_change(
        Instrument.PSK, 8.2, 6.2, RULES.outcome_measures.psk_mic_points_nrs_0_10, RULES, RULES.sections.mcic
    )
    assert engine.important and engine.improvement == 2


def test_psk_activities_are_matched_by_folded_name_and_their_means_rounded_half_up():
    first = {psk_activity_key(" Fietsen"): 8, psk_activity_key("TILLEN"): 7}
    last = {psk_activity_key("fietsen "): 4, psk_activity_key("tillen"): 4, psk_activity_key("zitten"): 1}
    assert psk_means(first, last) == (Decimal("7.50"), Decimal("4.00"))
    assert psk_means({"a": 1, "b": 1, "c": 0}, {"a": 0, "b": 0, "c": 0}) == (Decimal("0.67"), Decimal("0.00"))
