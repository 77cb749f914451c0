"""Outcome scores for the letters and the network's view: QBPDS, NPRS and PSK, and whether a change reaches
the minimal clinically important change (MCIC). Pure: no I/O.

Reporting scores with the guideline's versioned outcome measures (`shared.outcome_measures`), the one source
the pathway's guideline engine scores with too: `SCORED_WITH` names the version. The rules themselves (QBPDS
proration, PSK means over shared activities, MCIC by points or 30 % of the baseline) are stated there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from shared import outcome_measures

#: The version of the outcome measures' scoring reporting applies: the guideline's current rule version.
SCORED_WITH = "kngf-lrp-2003"
MEASURES = outcome_measures.VERSIONS[SCORED_WITH]

QBPDS_MCIC_POINTS = MEASURES.qbpds_mic_points
NPRS_MCIC_POINTS = MEASURES.nprs_mic_points
PSK_MCIC_POINTS: Mapping[str, Decimal] = {
    scale: MEASURES.psk_mic_points(scale) for scale in (outcome_measures.NRS_0_10, outcome_measures.VAS_0_100)
}


def qbpds_total(items: Sequence[int | None]) -> int | None:
    """The QBPDS total under `SCORED_WITH`, prorated over a few missing items; None when it cannot be scored."""
    return MEASURES.qbpds_total(items)


@dataclass(frozen=True)
class Change:
    """One instrument's change for one episode; `improvement` > 0 means better."""

    baseline: Decimal
    follow_up: Decimal
    improvement: Decimal
    important: bool


def change(baseline: Decimal | int, follow_up: Decimal | int, mcic_points: Decimal) -> Change:
    """Important when improved by at least `mcic_points`, or by at least 30 % of a positive baseline."""
    before, after = Decimal(baseline), Decimal(follow_up)
    return Change(before, after, before - after, MEASURES.important_change(before, after, mcic_points))
