"""The yearly visitation report (visitatie) of one practice: its figures for the year beside the network's,
where it lies in each funnel plot, the months of the year, and protocol adherence. Pure: no I/O.

Built from the published (rounded) table like every other figure, so it follows the same disclosure rules;
other practices appear only as anonymous points of the funnel plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from services.reporting.domain.network.counts import PublishedCell
from services.reporting.domain.network.figures import Block, FigureOut, Frozen, Funnel, Method, TrendPoint, build_report
from services.reporting.domain.network.indicators import INDICATORS, SHARES

#: protocol adherence: what the network's protocol asks of every episode
ADHERENCE = ("intake_measured", "evaluations_measured", "evaluations_on_time")


class IndicatorComparison(Frozen):
    key: str
    practice: FigureOut
    network: FigureOut
    #: funnel position of the practice: within the limits, outside 95 % or 99.8 % (above or below), or no
    #: position (too few cases, or a mean, which has no funnel)
    position: Literal["within", "above_95", "below_95", "above_99.8", "below_99.8"] | None


class Visitation(Frozen):
    practice_agb: str
    year: int
    method: Method
    labels: dict[str, Any]
    months: list[str]
    practice: Block
    network: Block
    practices_in_network: int
    adherence: list[str]
    indicators: list[IndicatorComparison]
    trends: dict[str, list[TrendPoint]]
    funnels: dict[str, Funnel]


def _position(key: str, practice: FigureOut, funnel: Funnel | None) -> str | None:
    if key not in SHARES or funnel is None or practice.value is None or funnel.mean is None:
        return None
    point = next((p for p in funnel.points if p.selected), None)
    if point is None or point.outside is None:
        return "within"
    return f"{'above' if point.value > funnel.mean else 'below'}_{point.outside}"


def visitation(cells: Sequence[PublishedCell], practice_agb: str, year: int) -> Visitation:
    """`cells`: every practice's published cells of the year."""
    within = [c for c in cells if c.month.year == year]
    report = build_report(
        within,
        scope="practice",
        period=(date(year, 1, 1), date(year, 12, 1)),
        practice=practice_agb,
        visible=lambda p: p == practice_agb,
    )
    own = next((t for t in report.practices if t.practice_agb == practice_agb), None)
    if own is None:
        empty = build_report([], scope="practice", period=(None, None), practice=None, visible=lambda p: False)
        practice_block = empty.network
    else:
        practice_block = Block(counts=own.counts, figures=own.figures)
    comparisons = [
        IndicatorComparison(
            key=i.key,
            practice=practice_block.figures[i.key],
            network=report.network.figures[i.key],
            position=_position(i.key, practice_block.figures[i.key], report.funnels.get(i.key)),
        )
        for i in INDICATORS
    ]
    return Visitation(
        practice_agb=practice_agb,
        year=year,
        method=report.method,
        labels=report.labels,
        months=report.months,
        practice=practice_block,
        network=report.network,
        practices_in_network=len({c.practice_agb for c in within}),
        adherence=list(ADHERENCE),
        indicators=comparisons,
        trends=report.trends,
        funnels=report.funnels,
    )
