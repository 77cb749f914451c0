"""Reporting's outcome scores (`services.reporting.domain.outcomes`) restate the guideline engine's versioned
instruments (`services/pathway/domain/guideline/instruments.py`, the current rule set): until both read one
source in `shared/`, this keeps the two from drifting apart."""

import itertools
from decimal import Decimal

from services.pathway.domain.guideline.facts import QbpdsAnswers
from services.pathway.domain.guideline.instruments import assess_change, score_qbpds
from services.pathway.domain.guideline.versions import CURRENT, DEFAULT_REGISTRY
from services.pathway.domain.guideline.vocabulary import Instrument
from services.reporting.domain.outcomes import (
    MCIC_RELATIVE_PERCENT,
    NPRS_MCIC_POINTS,
    PSK_MCIC_POINTS,
    QBPDS_ITEMS,
    QBPDS_MAX_MISSING_ITEMS,
    QBPDS_MCIC_POINTS,
    change,
    qbpds_total,
)

RULES = DEFAULT_REGISTRY.get(CURRENT)


def test_the_thresholds_are_the_current_rule_sets():
    assert QBPDS_MAX_MISSING_ITEMS == RULES.qbpds_max_missing_items
    assert QBPDS_MCIC_POINTS == Decimal(str(RULES.qbpds_mic_points))
    assert NPRS_MCIC_POINTS == Decimal(str(RULES.nprs_mic_points))
    assert PSK_MCIC_POINTS == {
        "0-10": Decimal(str(RULES.psk_mic_points_nrs_0_10)),
        "0-100": Decimal(str(RULES.psk_mic_points_vas_0_100)),
    }
    assert MCIC_RELATIVE_PERCENT == Decimal(str(RULES.mic_relative_percent))


def test_the_qbpds_total_is_the_guideline_engines_with_and_without_missing_items():
    for missing in range(4):
        for fill in range(6):
            for shift in range(QBPDS_ITEMS):
                items = [(fill + i * 7 + shift) % 6 for i in range(QBPDS_ITEMS)]
                for at in range(missing):
                    items[(shift + at * 5) % QBPDS_ITEMS] = None
                assert qbpds_total(items) == score_qbpds(QbpdsAnswers(items=tuple(items)), RULES).total


def test_whether_a_change_is_important_is_the_guideline_engines():
    for before, after in itertools.product(range(0, 101, 3), range(0, 101, 7)):
        engine = assess_change(Instrument.QBPDS, before, after, RULES.qbpds_mic_points, RULES, RULES.sections.mcic)
        assert change(before, after, QBPDS_MCIC_POINTS).important == engine.important
    for before, after in itertools.product(range(11), range(11)):
        engine = assess_change(Instrument.NPRS, before, after, RULES.nprs_mic_points, RULES, RULES.sections.mcic)
        assert change(before, after, NPRS_MCIC_POINTS).important == engine.important
