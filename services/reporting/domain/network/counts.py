"""What one practice counts in one month of referral, how those counts split (the table the disclosure
control rounds), and the published cell. Pure: no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from services.reporting.domain.network.facts import COURSES, DURATION_CLASSES, ESCALATION_REASONS, EpisodeSummary
from shared.disclosure import Magnitude, Split, TableShape, round_table

INSTRUMENTS = ("qbpds", "nprs", "psk")
#: PSK is scored on 0-10 or 0-100: a mean change over both scales means nothing, so only its MCIC share.
MEAN_CHANGE_INSTRUMENTS = ("qbpds", "nprs")
#: a first session within this many days of the referral counts as a timely start
TIMELY_START_DAYS = 14


def _splits() -> tuple[Split, ...]:
    splits = [
        Split("episodes", tuple(f"duration:{c}" for c in DURATION_CLASSES)),
        Split("episodes", tuple(f"course:{c}" for c in COURSES)),
        Split("episodes", ("escalated", "not_escalated")),
    ]
    splits += [Split("escalated", (f"reason:{r}", f"not_reason:{r}")) for r in ESCALATION_REASONS]
    splits.append(Split("episodes", ("intake_measured", "intake_unmeasured")))
    for name in INSTRUMENTS:
        splits.append(Split("intake_measured", (f"paired:{name}", f"unpaired:{name}")))
        splits.append(Split(f"paired:{name}", (f"mcic:{name}", f"no_mcic:{name}")))
    splits += [
        Split("episodes", ("treated", "untreated")),
        Split("treated", ("start_known", "start_unknown")),
        Split("start_known", ("started_timely", "started_later")),
        Split("evaluations_due", ("on_time", "overdue", "pending")),
        Split("evaluations_due", ("evaluations_measured", "evaluations_unmeasured")),
    ]
    return tuple(splits)


SHAPE = TableShape(
    roots=("episodes", "evaluations_due"),
    splits=_splits(),
    magnitudes=(
        Magnitude("extra_sessions", "treated"),  # sessions beyond each treated episode's first
        Magnitude("days_waited", "start_known"),
        *(Magnitude(f"improvement:{name}", f"paired:{name}") for name in MEAN_CHANGE_INSTRUMENTS),
    ),
    anchor="episodes",
)
COUNTS = SHAPE.counts
MAGNITUDES = tuple(m.name for m in SHAPE.magnitudes)


@dataclass
class RawCell:
    """The true counts of one practice in one month; never published as such."""

    values: Counter[str] = field(default_factory=Counter)
    magnitudes: Counter[str] = field(default_factory=Counter)

    def add(self, e: EpisodeSummary) -> None:
        v, m = self.values, self.magnitudes
        v["episodes"] += 1
        v[f"duration:{e.duration_class}"] += 1
        v[f"course:{e.course}"] += 1
        v["escalated" if e.escalation_reasons else "not_escalated"] += 1
        if e.escalation_reasons:
            for reason in ESCALATION_REASONS:
                v[f"reason:{reason}" if reason in e.escalation_reasons else f"not_reason:{reason}"] += 1
        v["intake_measured" if e.measured_at_intake else "intake_unmeasured"] += 1
        for name in INSTRUMENTS:
            change = getattr(e, name)
            if not e.measured_at_intake:
                continue
            v[f"paired:{name}" if change is not None else f"unpaired:{name}"] += 1
            if change is not None:
                v[f"mcic:{name}" if change.important else f"no_mcic:{name}"] += 1
                if name in MEAN_CHANGE_INSTRUMENTS:
                    m[f"improvement:{name}"] += int(change.improvement.to_integral_value())
        v["treated" if e.sessions else "untreated"] += 1
        if e.sessions:
            m["extra_sessions"] += e.sessions - 1
            if e.days_to_first_session is None:
                v["start_unknown"] += 1
            else:
                v["start_known"] += 1
                m["days_waited"] += e.days_to_first_session
                v["started_timely" if e.days_to_first_session <= TIMELY_START_DAYS else "started_later"] += 1
        v["evaluations_due"] += e.evaluations_due
        v["on_time"] += e.evaluations_on_time
        v["overdue"] += e.evaluations_overdue
        v["pending"] += e.evaluations_due - e.evaluations_on_time - e.evaluations_overdue
        v["evaluations_measured"] += e.evaluations_measured
        v["evaluations_unmeasured"] += e.evaluations_due - e.evaluations_measured


@dataclass(frozen=True)
class PublishedCell:
    """One practice in one month as published: every count a multiple of 5 (see `disclosure`)."""

    practice_agb: str
    month: date
    counts: Mapping[str, int]
    magnitudes: Mapping[str, int]


def raw_cells(episodes: Iterable[EpisodeSummary]) -> dict[tuple[str, date], RawCell]:
    cells: dict[tuple[str, date], RawCell] = {}
    for episode in episodes:
        key = (episode.practice_agb, episode.referral_month)
        cells.setdefault(key, RawCell()).add(episode)
    return cells


def publish_cell(practice_agb: str, month: date, raw: RawCell) -> PublishedCell:
    values = {name: raw.values.get(name, 0) for name in COUNTS}
    magnitudes = {name: raw.magnitudes.get(name, 0) for name in MAGNITUDES}
    counts, sums = round_table(SHAPE, values, magnitudes, key=f"{practice_agb}|{month.isoformat()}")
    return PublishedCell(practice_agb, month, counts, sums)


def published_cells(episodes: Iterable[EpisodeSummary]) -> list[PublishedCell]:
    """The published table: one cell per practice and month of referral whose episodes did not round to 0,
    in order. A cell that rounds to 0 is left out, like a practice-month without episodes: its row's mere
    presence would tell that it holds 1 to 4 episodes."""
    cells = raw_cells(episodes)
    published = (publish_cell(practice, month, cells[(practice, month)]) for practice, month in sorted(cells))
    return [cell for cell in published if cell.counts["episodes"] > 0]
