"""The network's report: figures from published counts, who sees which practice, trends, funnels, the CSV,
the words a reader sees, and the visitation report (data and PDF)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from services.reporting.documents.network.quality_csv import csv_columns, to_csv
from services.reporting.documents.network.visitation_pdf import render_visitation_pdf
from services.reporting.domain.network.counts import published_cells
from services.reporting.domain.network.facts import COURSES, EpisodeSummary
from services.reporting.domain.network.figures import build_report, months_between
from services.reporting.domain.network.indicators import MIN_DENOMINATOR, funnel_limits, outside
from services.reporting.domain.network.visitation import visitation
from services.reporting.domain.network.words import labels
from services.reporting.domain.outcomes import QBPDS_MCIC_POINTS, change

A, B, C = "04000001", "04000002", "04000003"
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


def episode(
    practice: str = A,
    month: date = JAN,
    *,
    measured: bool = True,
    reasons: tuple[str, ...] = (),
    due: int = 0,
    on_time: int = 0,
    sessions: int = 1,
    waited: int | None = 7,
    qbpds: tuple[int, int] | None = (60, 30),
) -> EpisodeSummary:
    return EpisodeSummary(
        practice_agb=practice,
        referral_month=month,
        duration_class="chronic",
        course="afwijkend",
        escalation_reasons=reasons,
        evaluations_due=due,
        evaluations_on_time=on_time,
        evaluations_overdue=0,
        sessions=sessions,
        measured_at_intake=measured,
        evaluations_measured=on_time,
        days_to_first_session=waited if sessions else None,
        qbpds=change(*qbpds, QBPDS_MCIC_POINTS) if qbpds and measured else None,
    )


def everyone(_: str) -> bool:
    return True


def test_counts_that_are_multiples_of_five_are_published_exactly_and_shares_follow_from_them():
    episodes = [episode(due=2, on_time=2) for _ in range(15)] + [episode(measured=False, sessions=0) for _ in range(5)]
    report = build_report(
        published_cells(episodes), scope="network", period=(None, None), practice=None, visible=everyone
    )
    counts, figures = report.network.counts, report.network.figures
    assert (counts["episodes"], counts["intake_measured"], counts["treated"]) == (20, 15, 15)
    assert figures["intake_measured"].value == 75.0 and figures["intake_measured"].denominator == 20
    assert figures["evaluations_on_time"].value == 100.0 and figures["evaluations_on_time"].denominator == 30
    assert figures["mcic_qbpds"].value == 100.0  # 60 -> 30 is 30 points
    assert figures["improvement_qbpds"].value == 30.0 and figures["sessions_per_episode"].value == 1.0
    assert figures["days_to_first_session"].value == 7.0 and figures["started_timely"].value == 100.0


def test_a_share_over_fewer_than_ten_published_cases_is_marked_suppressed_not_left_out():
    report = build_report(
        published_cells([episode() for _ in range(5)]),
        scope="network",
        period=(None, None),
        practice=None,
        visible=everyone,
    )
    f = report.network.figures["intake_measured"]
    assert f.value is None and f.suppressed and 0 < f.denominator < MIN_DENOMINATOR
    # a published 0 may be 1 to 4 cases: suppressed as well, never shown as "no data"
    assert report.network.figures["mcic_nprs"].suppressed and report.network.figures["mcic_nprs"].denominator == 0


def test_a_practice_sees_its_own_rows_and_the_network_and_others_only_as_anonymous_funnel_points():
    episodes = [episode(A) for _ in range(20)] + [episode(B) for _ in range(30)] + [episode(C) for _ in range(10)]
    report = build_report(
        published_cells(episodes), scope="practice", period=(None, None), practice=A, visible=lambda p: p == A
    )
    assert {r.practice_agb for r in report.rows} == {A} and [t.practice_agb for t in report.practices] == [A]
    assert report.network.counts["episodes"] == 60
    points = report.funnels["intake_measured"].points
    assert len(points) == 3 and {p.practice_agb for p in points} == {A, None}
    assert [p.selected for p in points if p.practice_agb == A] == [True]


def test_trends_have_a_point_for_every_month_of_the_period_with_the_network_as_reference():
    episodes = [episode(A, JAN) for _ in range(10)] + [episode(B, MAR) for _ in range(10)]
    report = build_report(published_cells(episodes), scope="network", period=(JAN, MAR), practice=A, visible=everyone)
    points = report.trends["intake_measured"]
    assert [p.month for p in points] == ["2026-01", "2026-02", "2026-03"]
    assert [p.network.value for p in points] == [100.0, None, 100.0]
    assert [p.practice.value if p.practice else "-" for p in points] == [100.0, None, None]
    assert report.months == ["2026-01", "2026-02", "2026-03"]


def test_an_empty_period_has_no_rows_and_no_figures_but_its_months():
    report = build_report([], scope="network", period=(JAN, FEB), practice=None, visible=everyone)
    assert report.rows == [] and report.practices == [] and report.network.counts["episodes"] == 0
    assert report.months == ["2026-01", "2026-02"] and report.funnels["intake_measured"].points == []


def test_months_between_crosses_the_year():
    assert months_between(date(2025, 11, 1), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_funnel_limits_narrow_with_more_cases_and_outside_names_the_widest_limit_crossed():
    limits = funnel_limits(50.0, 400)
    assert limits[0].n == MIN_DENOMINATOR and limits[-1].n == 400
    widths = [limit.upper["95"] - limit.lower["95"] for limit in limits]
    assert widths == sorted(widths, reverse=True)
    assert all(
        limit.lower["99.8"] <= limit.lower["95"] <= 50 <= limit.upper["95"] <= limit.upper["99.8"] for limit in limits
    )
    assert outside(50.0, 100, 50.0) is None
    assert outside(62.0, 100, 50.0) == "95"  # z = 2.4
    assert outside(70.0, 100, 50.0) == "99.8"  # z = 4
    assert funnel_limits(50.0, 5) == []


def test_every_word_a_reader_sees_is_dutch_or_english_and_no_raw_code():
    for language in ("nl", "en"):
        words = labels(language)
        texts = [*words["duration"].values(), *words["course"].values(), *words["reason"].values()]
        texts += [w["label"] for w in words["indicator"].values()]
        assert all(not re.search(r"[a-z]_[a-z]", t) for t in texts), texts
        headings = csv_columns(language)
        assert len(set(headings)) == len(headings), "two columns with one heading"
        assert all(not re.search(r"[a-z]_[a-z]|:", h.split(": ")[-1]) for h in headings)
    assert labels("nl")["course"]["not_classifiable"] == "beloop nog niet te classificeren"
    assert set(labels("nl")["course"]) == set(COURSES)


def test_the_csv_has_a_line_per_practice_month_per_practice_and_the_network_with_the_json_figures():
    episodes = [episode(A, JAN) for _ in range(10)] + [episode(B, FEB) for _ in range(15)]
    report = build_report(
        published_cells(episodes), scope="network", period=(None, None), practice=None, visible=everyone
    )
    rows = list(csv.reader(io.StringIO(to_csv(report, "nl"))))
    assert rows[0] == csv_columns("nl")
    assert [r[:3] for r in rows[1:]] == [
        ["maand", A, "2026-01"],
        ["maand", B, "2026-02"],
        ["periode", A, "2026-01..2026-02"],
        ["periode", B, "2026-01..2026-02"],
        ["netwerk", "", "2026-01..2026-02"],
    ]
    line = dict(zip(rows[0], rows[-1], strict=True))
    assert line["episodes"] == "25" and line["Gemeten bij intake (%)"] == "100.0"
    english = list(csv.reader(io.StringIO(to_csv(report, "en"))))
    assert english[0][:3] == ["level", "practice (AGB)", "month"] and english[-1][0] == "network"


def test_the_visitation_report_sets_the_practice_beside_the_network_and_renders_as_pdf():
    episodes = [episode(A, JAN, due=1, on_time=1) for _ in range(20)] + [
        episode(B, FEB, measured=False) for _ in range(40)
    ]
    report = visitation(published_cells(episodes), A, 2026)
    by_key = {c.key: c for c in report.indicators}
    assert by_key["intake_measured"].practice.value == 100.0 and by_key["intake_measured"].network.value == 33.3
    assert by_key["intake_measured"].position == "above_99.8"
    assert report.practices_in_network == 2 and report.practice.counts["episodes"] == 20
    assert report.adherence == ["intake_measured", "evaluations_measured", "evaluations_on_time"]
    for language in ("nl", "en"):
        pdf = render_visitation_pdf(report, language)
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    empty = visitation(published_cells(episodes), C, 2026)
    assert empty.practice.counts["episodes"] == 0 and render_visitation_pdf(empty).startswith(b"%PDF")
