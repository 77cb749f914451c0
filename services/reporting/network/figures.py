"""The network's quality figures per practice and month of referral, with small counts suppressed.
Pure: no I/O.

Suppression (so that no patient can be singled out):
- A count of 1 to 4 (`SMALL_COUNT_THRESHOLD` = 5, the threshold Dutch registries and CBS use for
  publishing small cells) is shown as "<5"; its share, and any mean over fewer than 5 episodes, is not
  shown. Zero is shown: an empty cell singles out nobody.
- A practice-month with 1 to 4 episodes shows only "<5" episodes and nothing else, so that nothing about
  that small group (e.g. "all of them were escalated") can be read from its zeros.
- Duration class and course each split the episodes completely; when exactly one cell of such a split is
  "<5", it could be computed back from the total, so the smallest other non-zero cell is hidden too and
  shown as ">=5" (complementary suppression).
- Figures are per whole month and there are no cross-practice totals, so no two published cells differ
  by a small group that differencing could isolate.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.reporting.network.facts import COURSES, DURATION_CLASSES, ESCALATION_REASONS, EpisodeSummary
from services.reporting.network.outcomes import round_half_up

SMALL_COUNT_THRESHOLD = 5
SMALL = "<5"
HIDDEN = ">=5"
Count = int | Literal["<5", ">=5"]
INSTRUMENTS = ("qbpds", "nprs", "psk")
#: PSK is scored on 0-10 or 0-100: a mean change over both scales means nothing, so only its MCIC share.
MEAN_CHANGE_INSTRUMENTS = ("qbpds", "nprs")


@dataclass
class OutcomeTally:
    paired: int = 0
    improvement_sum: Decimal = Decimal(0)
    important: int = 0


@dataclass
class Cell:
    """Raw counts of one practice in one month of referral; never published as such."""

    practice_agb: str
    month: date
    episodes: int = 0
    duration: Counter[str] = field(default_factory=Counter)
    course: Counter[str] = field(default_factory=Counter)
    escalated: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    evaluations_due: int = 0
    evaluations_on_time: int = 0
    evaluations_overdue: int = 0
    treated: int = 0  # episodes with at least one session
    sessions: int = 0
    outcomes: dict[str, OutcomeTally] = field(default_factory=lambda: {i: OutcomeTally() for i in INSTRUMENTS})

    def add(self, episode: EpisodeSummary) -> None:
        self.episodes += 1
        self.duration[episode.duration_class] += 1
        self.course[episode.course] += 1
        if episode.escalation_reasons:
            self.escalated += 1
            self.reasons.update(episode.escalation_reasons)
        self.evaluations_due += episode.evaluations_due
        self.evaluations_on_time += episode.evaluations_on_time
        self.evaluations_overdue += episode.evaluations_overdue
        if episode.sessions:
            self.treated += 1
            self.sessions += episode.sessions
        for name in INSTRUMENTS:
            measured = getattr(episode, name)
            if measured is not None:
                tally = self.outcomes[name]
                tally.paired += 1
                tally.improvement_sum += measured.improvement
                tally.important += measured.important


def aggregate(episodes: Iterable[EpisodeSummary]) -> list[Cell]:
    """Cells per (practice, month of referral), ordered by practice, then month."""
    cells: dict[tuple[str, date], Cell] = {}
    for episode in episodes:
        key = (episode.practice_agb, episode.referral_month)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Cell(episode.practice_agb, episode.referral_month)
        cell.add(episode)
    return [cells[key] for key in sorted(cells)]


def shown(count: int) -> Count:
    return SMALL if 0 < count < SMALL_COUNT_THRESHOLD else count


def share(count: Count, of: Count) -> float | None:
    """Percentage with one decimal, only when both numbers are shown exactly."""
    if not isinstance(count, int) or not isinstance(of, int) or of == 0:
        return None
    return float(round_half_up(Decimal(count) * 100 / of, 1))


def mean(total: Decimal | int, n: int) -> float | None:
    if n < SMALL_COUNT_THRESHOLD:
        return None
    return float(round_half_up(Decimal(total) / n, 1))


def split(counts: Counter[str], categories: Iterable[str]) -> dict[str, Count]:
    """A complete split of the episodes, with complementary suppression of a lone small cell."""
    raw = {category: counts.get(category, 0) for category in categories}
    result: dict[str, Count] = {category: shown(value) for category, value in raw.items()}
    small = [c for c, v in raw.items() if 0 < v < SMALL_COUNT_THRESHOLD]
    if len(small) == 1:
        others = sorted((v, c) for c, v in raw.items() if v >= SMALL_COUNT_THRESHOLD)
        if others:
            result[others[0][1]] = HIDDEN
    return result


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evaluations(Frozen):
    due: Count
    on_time: Count
    overdue: Count
    on_time_share: float | None
    overdue_share: float | None


class Sessions(Frozen):
    episodes_with_sessions: Count
    mean_per_episode: float | None


class Outcome(Frozen):
    paired: Count
    mean_change: float | None
    mcic_reached: Count
    mcic_share: float | None


class QualityRow(Frozen):
    """One practice in one month of referral. Counts are episodes unless named otherwise; shares are %."""

    practice_agb: str
    month: str
    suppressed: bool
    episodes: Count
    duration_class: dict[str, Count] | None = None
    course: dict[str, Count] | None = None
    escalated: Count | None = None
    escalated_share: float | None = None
    escalation_reasons: dict[str, Count] | None = None
    evaluations: Evaluations | None = None
    sessions: Sessions | None = None
    outcomes: dict[str, Outcome] | None = None


def publish(cell: Cell) -> QualityRow:
    month = cell.month.strftime("%Y-%m")
    episodes = shown(cell.episodes)
    if not isinstance(episodes, int):
        return QualityRow(practice_agb=cell.practice_agb, month=month, suppressed=True, episodes=episodes)
    escalated = shown(cell.escalated)
    due, on_time, overdue = (
        shown(cell.evaluations_due),
        shown(cell.evaluations_on_time),
        shown(cell.evaluations_overdue),
    )
    outcomes = {}
    for name in INSTRUMENTS:
        tally = cell.outcomes[name]
        paired, reached = shown(tally.paired), shown(tally.important)
        outcomes[name] = Outcome(
            paired=paired,
            mean_change=mean(tally.improvement_sum, tally.paired) if name in MEAN_CHANGE_INSTRUMENTS else None,
            mcic_reached=reached,
            mcic_share=share(reached, paired),
        )
    return QualityRow(
        practice_agb=cell.practice_agb,
        month=month,
        suppressed=False,
        episodes=episodes,
        duration_class=split(cell.duration, DURATION_CLASSES),
        course=split(cell.course, COURSES),
        escalated=escalated,
        escalated_share=share(escalated, episodes),
        escalation_reasons={reason: shown(cell.reasons.get(reason, 0)) for reason in ESCALATION_REASONS},
        evaluations=Evaluations(
            due=due,
            on_time=on_time,
            overdue=overdue,
            on_time_share=share(on_time, due),
            overdue_share=share(overdue, due),
        ),
        sessions=Sessions(
            episodes_with_sessions=shown(cell.treated), mean_per_episode=mean(cell.sessions, cell.treated)
        ),
        outcomes=outcomes,
    )


def quality_rows(episodes: Iterable[EpisodeSummary]) -> list[QualityRow]:
    return [publish(cell) for cell in aggregate(episodes)]


def csv_columns() -> list[str]:
    columns = ["practice_agb", "month", "suppressed", "episodes"]
    columns += [f"duration_{c}" for c in DURATION_CLASSES] + [f"course_{c}" for c in COURSES]
    columns += ["escalated", "escalated_share_pct"] + [f"escalation_{r}" for r in ESCALATION_REASONS]
    columns += ["evaluations_due", "evaluations_on_time", "evaluations_overdue"]
    columns += ["evaluations_on_time_share_pct", "evaluations_overdue_share_pct"]
    columns += ["episodes_with_sessions", "sessions_per_episode_mean"]
    for name in INSTRUMENTS:
        columns += [f"{name}_paired", f"{name}_mean_change", f"{name}_mcic_reached", f"{name}_mcic_share_pct"]
    return columns


def csv_row(row: QualityRow) -> list[str]:
    def text(value: object) -> str:
        return "" if value is None else str(value)

    values: list[object] = [row.practice_agb, row.month, "yes" if row.suppressed else "no", row.episodes]
    duration, course, reasons = row.duration_class or {}, row.course or {}, row.escalation_reasons or {}
    values += [duration.get(c) for c in DURATION_CLASSES] + [course.get(c) for c in COURSES]
    values += [row.escalated, row.escalated_share] + [reasons.get(r) for r in ESCALATION_REASONS]
    e, s = row.evaluations, row.sessions
    values += [e.due, e.on_time, e.overdue, e.on_time_share, e.overdue_share] if e else [None] * 5
    values += [s.episodes_with_sessions, s.mean_per_episode] if s else [None] * 2
    for name in INSTRUMENTS:
        o = row.outcomes.get(name) if row.outcomes else None
        values += [o.paired, o.mean_change, o.mcic_reached, o.mcic_share] if o else [None] * 4
    return [text(v) for v in values]


def to_csv(rows: Iterable[QualityRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_columns())
    for row in rows:
        writer.writerow(csv_row(row))
    return buffer.getvalue()
