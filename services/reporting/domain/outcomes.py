"""Outcome scores for the network's view: QBPDS, NPRS and PSK, and whether a change reaches the minimal
clinically important change (MCIC). Pure: no I/O.

These rules restate the pathway's guideline engine (services/pathway/domain/guideline/instruments.py,
rule set `kngf-lrp-2003`): a service may not import another service's code, so the few lines reporting
needs live here. When both services need them in more places, they belong in `shared/`.

- QBPDS: 20 items of 0-5, total 0-100. At most two missing items are filled with the mean of the answered
  ones (rounded half up); with more missing the measurement has no QBPDS score.
- PSK: the mean of the activities scored at both moments (matched by name, case-insensitive), rounded half
  up to two decimals; both moments on the same scale.
- MCIC (Ostelo et al. 2008): an improvement (baseline minus follow-up; every instrument scores higher =
  worse) of at least the instrument's points, or at least 30 % of the baseline. QBPDS 20 points, NPRS 2
  points, PSK 2 points on 0-10 or 15 points on 0-100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

QBPDS_ITEMS = 20
QBPDS_MAX_MISSING_ITEMS = 2
QBPDS_MCIC_POINTS = Decimal(20)
NPRS_MCIC_POINTS = Decimal(2)
PSK_MCIC_POINTS = {"0-10": Decimal(2), "0-100": Decimal(15)}
MCIC_RELATIVE_PERCENT = Decimal(30)


def round_half_up(value: Decimal, digits: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def qbpds_total(items: Sequence[int | None]) -> int | None:
    """The QBPDS total, prorated over at most two missing items; None when it cannot be scored."""
    answered = [item for item in items if item is not None]
    missing = len(items) - len(answered)
    if missing == 0:
        return sum(answered)
    if missing > QBPDS_MAX_MISSING_ITEMS or not answered:
        return None
    return int(round_half_up(Decimal(sum(answered)) / len(answered) * len(items), 0))


def psk_means(first: Mapping[str, int], last: Mapping[str, int]) -> tuple[Decimal, Decimal] | None:
    """Baseline and follow-up PSK means over the activities scored at both moments (names already folded)."""
    common = [name for name in first if name in last]
    if not common:
        return None
    before = round_half_up(Decimal(sum(first[n] for n in common)) / len(common), 2)
    after = round_half_up(Decimal(sum(last[n] for n in common)) / len(common), 2)
    return before, after


def psk_activity_key(label: str) -> str:
    return label.strip().casefold()


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
    improvement = before - after
    relative = before > 0 and improvement * 100 >= MCIC_RELATIVE_PERCENT * before
    important = improvement > 0 and (improvement >= mcic_points or relative)
    return Change(before, after, improvement, important)
