"""The network's quality report for a period: per practice and month, per practice, the network, trends
over months and funnel plots, all computed from the published (rounded) table. Pure: no I/O. Its CSV is
`documents.network.quality_csv`.

Who may see which practice is decided by the caller of `build_report` (`visible`); the network's own
figures and the funnel's anonymous points are sums of published cells and so reveal nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from services.reporting.domain.network.counts import PublishedCell
from services.reporting.domain.network.facts import COURSES, DURATION_CLASSES, ESCALATION_REASONS
from services.reporting.domain.network.indicators import (
    INDICATORS,
    MIN_DENOMINATOR,
    SHARES,
    Figure,
    Tally,
    figures,
    funnel_limits,
    outside,
)
from services.reporting.domain.network.words import labels
from shared.disclosure import BASE

METHOD = "controlled rounding to base 5 over the table's splits; every other figure summed from the rounded table"
#: the counts a reader sees (the other parts of each split follow from these)
SHOWN_COUNTS = (
    "episodes",
    *(f"duration:{c}" for c in DURATION_CLASSES),
    *(f"course:{c}" for c in COURSES),
    "escalated",
    *(f"reason:{r}" for r in ESCALATION_REASONS),
    "intake_measured",
    "treated",
    "evaluations_due",
    "evaluations_measured",
    "on_time",
    "overdue",
    "pending",
)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FigureOut(Frozen):
    value: float | None
    denominator: int
    numerator: int | None
    suppressed: bool


class Block(Frozen):
    counts: dict[str, int]
    figures: dict[str, FigureOut]


class MonthRow(Block):
    practice_agb: str
    month: str


class PracticeTotal(Block):
    practice_agb: str
    months_with_episodes: int


class TrendPoint(Frozen):
    month: str
    network: FigureOut
    practice: FigureOut | None = None


class FunnelPoint(Frozen):
    practice_agb: str | None  # None: another practice, not shown to this caller by name
    selected: bool
    n: int
    value: float
    outside: Literal["95", "99.8"] | None


class FunnelLimitOut(Frozen):
    n: int
    lower: dict[str, float]
    upper: dict[str, float]


class Funnel(Frozen):
    mean: float | None
    points: list[FunnelPoint]
    limits: list[FunnelLimitOut]


class Method(Frozen):
    name: str
    base: int
    min_denominator: int


class QualityReport(Frozen):
    scope: Literal["network", "practice"]
    period_from: str | None
    period_to: str | None
    practice: str | None
    method: Method
    labels: dict[str, Any]
    months: list[str]
    rows: list[MonthRow]
    practices: list[PracticeTotal]
    network: Block
    trends: dict[str, list[TrendPoint]]
    funnels: dict[str, Funnel]


def _figure(f: Figure) -> FigureOut:
    return FigureOut(value=f.value, denominator=f.denominator, numerator=f.numerator, suppressed=f.suppressed)


def block_of(cells: Iterable[PublishedCell]) -> tuple[dict[str, int], dict[str, FigureOut]]:
    tally = Tally.of(cells)
    return (
        dict(tally.counts),  # the whole rounded table: what the figures are computed from
        {key: _figure(f) for key, f in figures(tally).items()},
    )


def month_key(month: date) -> str:
    return month.strftime("%Y-%m")


def months_between(first: date, last: date) -> list[date]:
    months, current = [], first
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def funnel(
    indicator: str, by_practice: dict[str, list[PublishedCell]], selected: str | None, visible: Callable[[str], bool]
) -> Funnel:
    network = figures(Tally.of(c for cells in by_practice.values() for c in cells))[indicator]
    if network.value is None:
        return Funnel(mean=None, points=[], limits=[])
    points = []
    for practice, cells in sorted(by_practice.items()):
        f = figures(Tally.of(cells))[indicator]
        if f.value is None:
            continue  # fewer than MIN_DENOMINATOR cases: no point
        points.append(
            FunnelPoint(
                practice_agb=practice if visible(practice) else None,
                selected=practice == selected,
                n=f.denominator,
                value=f.value,
                outside=outside(f.value, f.denominator, network.value),
            )
        )
    largest = max((p.n for p in points), default=0)
    limits = [
        FunnelLimitOut(n=limit.n, lower=dict(limit.lower), upper=dict(limit.upper))
        for limit in funnel_limits(network.value, largest)
    ]
    return Funnel(mean=network.value, points=points, limits=limits)


def build_report(
    cells: Sequence[PublishedCell],
    *,
    scope: Literal["network", "practice"],
    period: tuple[date | None, date | None],
    practice: str | None,
    visible: Callable[[str], bool],
) -> QualityReport:
    """The report over `cells` (every practice's published cells in the period: the network's reference).
    Rows and totals are given for the practices `visible` allows, and only `practice` when one is chosen."""
    first, last = period
    months_present = sorted({c.month for c in cells})
    if months_present or (first and last):
        start = first or months_present[0]
        end = last or months_present[-1]
        months = months_between(start, end)
    else:
        months = []

    def shown(p: str) -> bool:
        return visible(p) and (practice is None or p == practice)

    by_practice: dict[str, list[PublishedCell]] = {}
    for cell in cells:
        by_practice.setdefault(cell.practice_agb, []).append(cell)
    rows = []
    for cell in cells:
        if shown(cell.practice_agb):
            counts, figs = block_of([cell])
            rows.append(
                MonthRow(practice_agb=cell.practice_agb, month=month_key(cell.month), counts=counts, figures=figs)
            )
    practices = []
    for name, own in sorted(by_practice.items()):
        if shown(name):
            counts, figs = block_of(own)
            months_with = sum(1 for c in own if c.counts["episodes"] > 0)
            practices.append(
                PracticeTotal(practice_agb=name, months_with_episodes=months_with, counts=counts, figures=figs)
            )
    counts, figs = block_of(cells)
    network = Block(counts=counts, figures=figs)
    focus = (
        practice if practice is not None else (next(iter(by_practice)) if scope == "practice" and by_practice else None)
    )
    trends: dict[str, list[TrendPoint]] = {i.key: [] for i in INDICATORS}
    for month in months:
        in_month = [c for c in cells if c.month == month]
        net = figures(Tally.of(in_month))
        focused = figures(Tally.of(c for c in in_month if c.practice_agb == focus)) if focus else None
        for i in INDICATORS:
            trends[i.key].append(
                TrendPoint(
                    month=month_key(month),
                    network=_figure(net[i.key]),
                    practice=_figure(focused[i.key]) if focused is not None else None,
                )
            )
    funnels = {key: funnel(key, by_practice, focus, visible) for key in SHARES}
    return QualityReport(
        scope=scope,
        period_from=month_key(first) if first else None,
        period_to=month_key(last) if last else None,
        practice=practice,
        method=Method(name=METHOD, base=BASE, min_denominator=MIN_DENOMINATOR),
        labels={language: labels(language) for language in ("nl", "en")},
        months=[month_key(m) for m in months],
        rows=rows,
        practices=practices,
        network=network,
        trends=trends,
        funnels=funnels,
    )
