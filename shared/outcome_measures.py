"""How the outcome measures are scored, versioned: the one source both the pathway's guideline engine and
reporting's letters and network view score with. Pure: no I/O, no clock.

A version (the guideline's rule version, `kngf-lrp-2003`) names one `OutcomeMeasures`: every number a score
or a minimal important change depends on. A later revision is a second `OutcomeMeasures` beside the first,
so an episode scored under one version can be re-scored under either.

- QBPDS: 20 items of 0-5, total 0-100. At most `qbpds_max_missing_items` missing items are filled with the
  mean of the answered ones (rounded half up) rather than counted as 0, which would understate disability
  (an engine convention, not in the source); with more missing the measurement has no QBPDS score.
- PSK: the mean of the activities scored at both moments (matched by name, case-insensitive), rounded half
  up to two decimals; both moments on the same scale.
- Minimal important change (Ostelo et al. 2008, Spine 33(1):90-94, the international consensus for low back
  pain outcome measures): an improvement (baseline minus follow-up; every instrument scores higher = worse)
  of at least the instrument's points, or of at least `mic_relative_percent` of a positive baseline. QBPDS
  20 points, NPRS 2 points; Ostelo gives no PSK value, but the PSK rates each activity on a 0-10 numerical
  rating scale or a 100 mm visual analogue scale, and Ostelo's consensus covers exactly those scales when
  used for functional status: 2 points on 0-10, 15 points on 0-100.

Arithmetic is decimal: a score is compared as the number a clinician reads, never as a binary fraction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

QBPDS_ITEMS = 20
NRS_0_10 = "0-10"
VAS_0_100 = "0-100"


@dataclass(frozen=True)
class OutcomeMeasures:
    """Every number the scoring of the outcome measures depends on, under one rule version."""

    version: str
    qbpds_max_missing_items: int
    qbpds_mic_points: Decimal
    nprs_mic_points: Decimal
    psk_mic_points_nrs_0_10: Decimal
    psk_mic_points_vas_0_100: Decimal
    mic_relative_percent: Decimal

    def psk_mic_points(self, scale: str) -> Decimal:
        """The PSK's minimal important change in points on `scale` ("0-10" or "0-100")."""
        if scale == NRS_0_10:
            return self.psk_mic_points_nrs_0_10
        if scale == VAS_0_100:
            return self.psk_mic_points_vas_0_100
        raise ValueError(f"unknown PSK scale {scale!r}")

    def qbpds_total(self, items: Sequence[int | None]) -> int | None:
        """The QBPDS total, prorated over at most `qbpds_max_missing_items` missing items; None when it
        cannot be scored."""
        answered = [item for item in items if item is not None]
        missing = len(items) - len(answered)
        if missing == 0:
            return sum(answered)
        if missing > self.qbpds_max_missing_items or not answered:
            return None
        return int(round_half_up(Decimal(sum(answered)) / len(answered) * len(items), 0))

    def important_change(self, baseline: Decimal, follow_up: Decimal, mic_points: Decimal) -> bool:
        """An improvement of at least `mic_points`, or of at least `mic_relative_percent` of a positive
        baseline."""
        improvement = baseline - follow_up
        relative = baseline > 0 and improvement * 100 >= self.mic_relative_percent * baseline
        return improvement > 0 and (improvement >= mic_points or relative)


KNGF_LRP_2003 = OutcomeMeasures(
    version="kngf-lrp-2003",
    qbpds_max_missing_items=2,
    qbpds_mic_points=Decimal(20),
    nprs_mic_points=Decimal(2),
    psk_mic_points_nrs_0_10=Decimal(2),
    psk_mic_points_vas_0_100=Decimal(15),
    mic_relative_percent=Decimal(30),
)

#: Every version of the scoring, by the rule version that names it.
VERSIONS: Mapping[str, OutcomeMeasures] = MappingProxyType({KNGF_LRP_2003.version: KNGF_LRP_2003})


def round_half_up(value: Decimal, digits: int) -> Decimal:
    """Commercial rounding; Python's round() rounds half to even, which surprises clinicians."""
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def psk_activity_key(label: str) -> str:
    """The name a PSK activity is matched by across moments: trimmed and case-folded."""
    return label.strip().casefold()


def psk_means(first: Mapping[str, int], last: Mapping[str, int]) -> tuple[Decimal, Decimal] | None:
    """Baseline and follow-up PSK means over the activities scored at both moments (keys already folded by
    `psk_activity_key`), each rounded half up to two decimals; None when no activity is shared."""
    common = [name for name in first if name in last]
    if not common:
        return None
    before = round_half_up(Decimal(sum(first[n] for n in common)) / len(common), 2)
    after = round_half_up(Decimal(sum(last[n] for n in common)) / len(common), 2)
    return before, after
