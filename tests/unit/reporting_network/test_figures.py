"""The network's figures: aggregation per practice and month, small-count suppression, shares, CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date
from decimal import Decimal

from services.reporting.network.facts import EpisodeSummary
from services.reporting.network.figures import (
    HIDDEN,
    SMALL,
    csv_columns,
    quality_rows,
    share,
    shown,
    split,
    to_csv,
)
from services.reporting.network.outcomes import QBPDS_MCIC_POINTS, change

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)


def episode(
    practice: str = "04123456",
    month: date = NOV,
    duration: str = "chronic",
    course: str = "afwijkend",
    reasons: tuple[str, ...] = (),
    due: int = 0,
    on_time: int = 0,
    overdue: int = 0,
    sessions: int = 0,
    qbpds: tuple[int, int] | None = None,
) -> EpisodeSummary:
    return EpisodeSummary(
        practice_agb=practice,
        referral_month=month,
        duration_class=duration,
        course=course,
        escalation_reasons=reasons,
        evaluations_due=due,
        evaluations_on_time=on_time,
        evaluations_overdue=overdue,
        sessions=sessions,
        qbpds=change(*qbpds, QBPDS_MCIC_POINTS) if qbpds else None,
        nprs=None,
        psk=None,
    )


def test_counts_of_one_to_four_are_shown_as_less_than_five_and_zero_as_zero():
    assert [shown(n) for n in (0, 1, 4, 5, 17)] == [0, SMALL, SMALL, 5, 17]


def test_a_share_is_shown_only_when_both_numbers_are_shown():
    assert share(5, 8) == 62.5
    assert share(0, 12) == 0.0
    assert share(SMALL, 12) is None and share(6, SMALL) is None and share(HIDDEN, 12) is None and share(0, 0) is None


def test_a_lone_small_cell_of_a_split_hides_the_smallest_other_cell_too():
    assert split(Counter(acute=3, subacute=6, chronic=9), ("acute", "subacute", "chronic", "unknown")) == {
        "acute": SMALL,
        "subacute": HIDDEN,
        "chronic": 9,
        "unknown": 0,
    }
    assert split(Counter(acute=3, subacute=2, chronic=9), ("acute", "subacute", "chronic")) == {
        "acute": SMALL,
        "subacute": SMALL,
        "chronic": 9,
    }
    assert split(Counter(acute=5, chronic=9), ("acute", "subacute", "chronic")) == {
        "acute": 5,
        "subacute": 0,
        "chronic": 9,
    }


def test_a_practice_month_with_fewer_than_five_episodes_shows_nothing_but_less_than_five():
    rows = quality_rows([episode(reasons=("radicular_signs",)) for _ in range(4)])
    [row] = rows
    assert row.suppressed and row.episodes == SMALL
    assert row.model_dump(exclude={"practice_agb", "month", "suppressed", "episodes"}, exclude_none=True) == {}


def test_figures_are_per_practice_and_month_of_referral_with_shares_means_and_mcic():
    episodes = [
        *[episode(due=2, on_time=2, sessions=6, qbpds=(60, 30)) for _ in range(4)],
        *[episode(reasons=("no_progress_after_three_weeks",), due=1, overdue=1, sessions=3, qbpds=(60, 55))] * 2,
        *[episode(duration="acute", course="normaal", sessions=1) for _ in range(5)],
        *[episode(month=DEC) for _ in range(5)],
        *[episode(practice="04999999") for _ in range(2)],
    ]
    rows = quality_rows(episodes)
    assert [(r.practice_agb, r.month, r.episodes) for r in rows] == [
        ("04123456", "2026-11", 11),
        ("04123456", "2026-12", 5),
        ("04999999", "2026-11", SMALL),
    ]
    november = rows[0]
    assert november.duration_class == {"acute": 5, "subacute": 0, "chronic": 6, "unknown": 0}
    assert november.course == {"normaal": 5, "afwijkend": 6, "not_classifiable": 0, "unknown": 0}
    assert november.escalated == SMALL and november.escalated_share is None
    assert november.escalation_reasons is not None
    assert november.escalation_reasons["no_progress_after_three_weeks"] == SMALL
    assert november.escalation_reasons["radicular_signs"] == 0
    evaluations = november.evaluations
    assert evaluations is not None
    assert (evaluations.due, evaluations.on_time, evaluations.overdue) == (10, 8, SMALL)
    assert evaluations.on_time_share == 80.0 and evaluations.overdue_share is None
    assert november.sessions is not None
    assert november.sessions.episodes_with_sessions == 11
    assert november.sessions.mean_per_episode == round((4 * 6 + 2 * 3 + 5) / 11, 1)
    assert november.outcomes is not None
    qbpds = november.outcomes["qbpds"]
    assert qbpds.paired == 6 and qbpds.mcic_reached == SMALL  # 4 of 6 reached 20 points or 30 %
    assert qbpds.mean_change == float(round(Decimal(4 * 30 + 2 * 5) / 6, 1))
    assert qbpds.mcic_share is None
    assert november.outcomes["nprs"].paired == 0 and november.outcomes["nprs"].mean_change is None
    assert rows[1].sessions is not None and rows[1].sessions.mean_per_episode is None  # no sessions at all


def test_csv_has_one_row_per_practice_month_with_the_same_suppression():
    episodes = [episode(sessions=2) for _ in range(6)] + [episode(practice="04999999")]
    text = to_csv(quality_rows(episodes))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == csv_columns()
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["practice_agb"] == "04123456" and first["episodes"] == "6" and first["suppressed"] == "no"
    assert first["duration_chronic"] == "6" and first["sessions_per_episode_mean"] == "2.0"
    assert first["escalated"] == "0" and first["escalated_share_pct"] == "0.0"
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["episodes"] == SMALL and second["suppressed"] == "yes"
    assert {v for k, v in second.items() if k not in ("practice_agb", "month", "suppressed", "episodes")} == {""}
