"""The figures a coordinator compares practices with: each a share or a mean of published counts, with its
denominator, and when a figure is shown at all. Pure: no I/O.

Every figure is computed from published (rounded) counts only, so it releases nothing the rounded table
does not (see `disclosure`). A share or mean over fewer than `MIN_DENOMINATOR` published cases is not shown
("afgeschermd"): rounded to fives, a handful of cases gives no figure worth comparing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.reporting.domain.network.counts import COUNTS, MAGNITUDES, PublishedCell
from shared.outcome_measures import round_half_up

MIN_DENOMINATOR = 10
#: funnel plot control limits (two-sided): 95 % and 99.8 %
FUNNEL_LIMITS = {"95": 1.959964, "99.8": 3.090232}


@dataclass(frozen=True)
class Indicator:
    key: str
    kind: str  # "share" (percentage) or "mean"
    denominator: str  # a count
    numerator: str | None = None  # a count, for shares
    magnitude: str | None = None  # a magnitude, for means
    plus_denominator: bool = False  # a mean of (denominator + magnitude) / denominator (sessions)
    higher_is_better: bool | None = True
    unit: str = "%"


INDICATORS: tuple[Indicator, ...] = (
    Indicator("intake_measured", "share", "episodes", numerator="intake_measured"),
    Indicator("evaluations_measured", "share", "evaluations_due", numerator="evaluations_measured"),
    Indicator("evaluations_on_time", "share", "evaluations_due", numerator="on_time"),
    Indicator("escalated", "share", "episodes", numerator="escalated", higher_is_better=None),
    Indicator("mcic_qbpds", "share", "paired:qbpds", numerator="mcic:qbpds"),
    Indicator("mcic_nprs", "share", "paired:nprs", numerator="mcic:nprs"),
    Indicator("mcic_psk", "share", "paired:psk", numerator="mcic:psk"),
    Indicator("started_timely", "share", "start_known", numerator="started_timely"),
    Indicator(
        "sessions_per_episode",
        "mean",
        "treated",
        magnitude="extra_sessions",
        plus_denominator=True,
        higher_is_better=None,
        unit="sessions",
    ),
    Indicator(
        "days_to_first_session", "mean", "start_known", magnitude="days_waited", higher_is_better=False, unit="days"
    ),
    Indicator("improvement_qbpds", "mean", "paired:qbpds", magnitude="improvement:qbpds", unit="points"),
    Indicator("improvement_nprs", "mean", "paired:nprs", magnitude="improvement:nprs", unit="points"),
)
BY_KEY = {i.key: i for i in INDICATORS}
SHARES = tuple(i.key for i in INDICATORS if i.kind == "share")


@dataclass
class Tally:
    """Published counts and magnitudes added up over cells (a range of months, practices)."""

    counts: dict[str, int]
    magnitudes: dict[str, int]

    @classmethod
    def of(cls, cells: Iterable[PublishedCell]) -> Tally:
        tally = cls({name: 0 for name in COUNTS}, {name: 0 for name in MAGNITUDES})
        for cell in cells:
            for name, value in cell.counts.items():
                tally.counts[name] += value
            for name, value in cell.magnitudes.items():
                tally.magnitudes[name] += value
        return tally


@dataclass(frozen=True)
class Figure:
    value: float | None
    denominator: int
    numerator: int | None
    #: fewer than MIN_DENOMINATOR published cases (a published 0 may hide 1 to 4): no figure
    suppressed: bool


def figure(indicator: Indicator, tally: Tally) -> Figure:
    n = tally.counts[indicator.denominator]
    if indicator.kind == "share":
        assert indicator.numerator is not None
        top = tally.counts[indicator.numerator]
        scale = Decimal(100)
    else:
        assert indicator.magnitude is not None
        top = tally.magnitudes[indicator.magnitude] + (n if indicator.plus_denominator else 0)
        scale = Decimal(1)
    if n < MIN_DENOMINATOR:
        return Figure(None, n, top if indicator.kind == "share" else None, suppressed=True)
    value = float(round_half_up(Decimal(top) * scale / n, 1))
    return Figure(value, n, top if indicator.kind == "share" else None, suppressed=False)


def figures(tally: Tally) -> dict[str, Figure]:
    return {i.key: figure(i, tally) for i in INDICATORS}


@dataclass(frozen=True)
class FunnelLimit:
    n: int
    lower: Mapping[str, float]
    upper: Mapping[str, float]


def funnel_limits(mean_percent: float, largest: int, steps: int = 40) -> list[FunnelLimit]:
    """Control limits around the network's share (binomial, normal approximation) for denominators from
    MIN_DENOMINATOR to `largest`: the funnel a practice's share is compared against."""
    p = min(1.0, max(0.0, mean_percent / 100))
    if largest < MIN_DENOMINATOR:
        return []
    ns = sorted({round(MIN_DENOMINATOR * (largest / MIN_DENOMINATOR) ** (k / steps)) for k in range(steps + 1)})
    limits = []
    for n in ns:
        spread = math.sqrt(p * (1 - p) / n)
        lower = {name: round(max(0.0, p - z * spread) * 100, 2) for name, z in FUNNEL_LIMITS.items()}
        upper = {name: round(min(1.0, p + z * spread) * 100, 2) for name, z in FUNNEL_LIMITS.items()}
        limits.append(FunnelLimit(n, lower, upper))
    return limits


def outside(value_percent: float, n: int, mean_percent: float) -> str | None:
    """The widest control limit a share lies outside ("99.8", "95") or None when within both."""
    p = min(1.0, max(0.0, mean_percent / 100))
    spread = math.sqrt(p * (1 - p) / n) if n else 0.0
    for name in ("99.8", "95"):
        z = FUNNEL_LIMITS[name]
        if abs(value_percent / 100 - p) > z * spread:
            return name
    return None
