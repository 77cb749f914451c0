"""The attacker test of issue 17: for generated cohorts with many small cells, an attacker that knows every
figure published for every range of months and every practice filter (JSON and CSV alike) derives bounds
on every true count, and never pins one to 1-4. The same attacker pins counts against the method used
before (shown as "<5" with complementary suppression of a lone small cell), so it is able to fail."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from datetime import date

import pytest

from services.reporting.documents.network.quality_csv import csv_columns, to_csv
from services.reporting.domain.network.counts import COUNTS, SHAPE, PublishedCell, published_cells, raw_cells
from services.reporting.domain.network.facts import COURSES, DURATION_CLASSES, ESCALATION_REASONS, EpisodeSummary
from services.reporting.domain.network.figures import SHOWN_COUNTS, QualityReport, build_report
from services.reporting.domain.network.indicators import INDICATORS, Tally, figures
from services.reporting.domain.outcomes import NPRS_MCIC_POINTS, QBPDS_MCIC_POINTS, change
from shared.disclosure import BASE
from tests.unit.reporting_network.attacker import Attacker

PRACTICES = ("04000001", "04000002", "04000003")
MONTHS = [date(2026, m, 1) for m in range(1, 7)]
SEEDS = range(8)


def generated_cohort(seed: int) -> list[EpisodeSummary]:
    """Practice-months of 0 to 14 episodes, most of them small, with every kind of figure filled."""
    rng = random.Random(seed)
    episodes = []
    for practice in PRACTICES:
        for month in MONTHS:
            for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 14])):
                due = rng.choice([0, 0, 1, 2, 3])
                on_time = rng.randint(0, due)
                overdue = rng.randint(0, due - on_time)
                measured = rng.random() < 0.8
                sessions = rng.choice([0, 1, 3, 6, 9])
                episodes.append(
                    EpisodeSummary(
                        practice_agb=practice,
                        referral_month=month,
                        duration_class=rng.choices(DURATION_CLASSES, [2, 1, 8, 1])[0],
                        course=rng.choices(COURSES, [3, 6, 1, 1])[0],
                        escalation_reasons=tuple(
                            sorted(rng.sample(ESCALATION_REASONS, rng.choice([0, 0, 0, 1, 1, 2])))
                        ),
                        evaluations_due=due,
                        evaluations_on_time=on_time,
                        evaluations_overdue=overdue,
                        sessions=sessions,
                        measured_at_intake=measured,
                        evaluations_measured=rng.randint(0, due),
                        days_to_first_session=rng.randint(0, 30) if sessions and rng.random() < 0.9 else None,
                        qbpds=change(rng.randint(20, 80), rng.randint(0, 80), QBPDS_MCIC_POINTS)
                        if measured and rng.random() < 0.7
                        else None,
                        nprs=change(rng.randint(3, 9), rng.randint(0, 9), NPRS_MCIC_POINTS)
                        if measured and rng.random() < 0.6
                        else None,
                        psk=None,
                    )
                )
    return episodes


def true_table(episodes: list[EpisodeSummary]) -> dict[tuple[str, date, str], int]:
    cells = raw_cells(episodes)
    return {
        (p, m, name): (cells[(p, m)].values.get(name, 0) if (p, m) in cells else 0)
        for p in PRACTICES
        for m in MONTHS
        for name in COUNTS
    }


def ranges() -> Iterable[tuple[date, date]]:
    for i, first in enumerate(MONTHS):
        for last in MONTHS[i:]:
            yield first, last


def every_publication(cells: list[PublishedCell]) -> list[tuple[QualityReport, str]]:
    """What every caller can ask: every range, all practices and each one (network), each practice's own."""
    out = []
    for first, last in ranges():
        within = [c for c in cells if first <= c.month <= last]
        for practice in (None, *PRACTICES):
            report = build_report(
                within, scope="network", period=(first, last), practice=practice, visible=lambda p: True
            )
            out.append((report, to_csv(report)))
        for own in PRACTICES:
            report = build_report(
                within, scope="practice", period=(first, last), practice=own, visible=lambda p, own=own: p == own
            )
            out.append((report, to_csv(report)))
    return out


def keys(practices: Iterable[str], months: Iterable[date], name: str) -> list[tuple[str, date, str]]:
    return [(p, m, name) for p in practices for m in months]


def months_of(report: QualityReport) -> list[date]:
    return [date.fromisoformat(f"{m}-01") for m in report.months]


def attack_rounded(publications: list[tuple[QualityReport, str]]) -> tuple[Attacker, dict]:
    """What the attacker learns from the published figures of the new method."""
    attacker = Attacker([(p, m) for p in PRACTICES for m in MONTHS])
    base: dict[tuple[str, date], dict[str, int]] = {}
    for report, text in publications:
        for row in report.rows:
            cell = (row.practice_agb, date.fromisoformat(f"{row.month}-01"))
            assert base.setdefault(cell, row.counts) == row.counts, "a cell's figures differ between queries"
        # the CSV says what the JSON says
        lines = list(csv.reader(io.StringIO(text)))
        assert lines[0] == csv_columns("nl") and len(lines) == 1 + len(report.rows) + len(report.practices) + 1
        for line, row in zip(lines[1:], report.rows, strict=False):
            assert [int(v) for v in line[3 : 3 + len(SHOWN_COUNTS)]] == [row.counts[n] for n in SHOWN_COUNTS]
    for p in PRACTICES:
        for m in MONTHS:
            published = base.get((p, m))
            if published is None:
                attacker.know([(p, m, "episodes")], 0, BASE - 1)  # left out: rounded to 0
                continue
            for name, value in published.items():
                assert value % BASE == 0
                attacker.know([(p, m, name)], value - (BASE - 1), value + (BASE - 1))
    # every figure of a range or a total is the sum of published cells: it tells nothing beyond them
    for report, _ in publications:
        span = months_of(report)
        for total in report.practices:
            for name, value in total.counts.items():
                assert value == sum(base.get((total.practice_agb, m), {}).get(name, 0) for m in span)
        for name, value in report.network.counts.items():
            assert value == sum(base.get((p, m), {}).get(name, 0) for p in PRACTICES for m in span)
        for indicator, points in report.trends.items():
            for point in points:
                month = date.fromisoformat(f"{point.month}-01")
                assert point.network.denominator == sum(
                    base.get((p, month), {}).get(_denominator(indicator), 0) for p in PRACTICES
                )
    return attacker, base


def _denominator(indicator: str) -> str:
    return next(i.denominator for i in INDICATORS if i.key == indicator)


def assert_nothing_pinned(attacker: Attacker, truth: dict) -> list[str]:
    pinned = []
    attacker.solve()
    targets: list[list[tuple[str, date, str]]] = [[k] for k in attacker.index]
    for name in SHOWN_COUNTS:
        for first, last in ranges():
            span = [m for m in MONTHS if first <= m <= last]
            for p in PRACTICES:
                targets.append(keys([p], span, name))
            targets.append(keys(PRACTICES, span, name))
            for left_out in PRACTICES:  # all practices but one
                targets.append(keys([p for p in PRACTICES if p != left_out], span, name))
    for target in targets:
        lo, hi = attacker.bounds(target)
        value = sum(truth[k] for k in target)
        assert lo <= value <= hi, f"the attacker's bounds are unsound for {target[:2]}"
        if lo == hi and 1 <= lo < BASE:
            pinned.append(f"{target[0]} (+{len(target) - 1}) = {lo}")
    return pinned


@pytest.mark.parametrize("seed", SEEDS)
def test_the_attacker_never_pins_a_count_of_one_to_four_under_controlled_rounding(seed):
    episodes = generated_cohort(seed)
    truth = true_table(episodes)
    assert sum(1 for k, v in truth.items() if k[2] == "episodes" and 1 <= v < BASE) >= 3, "too few small cells"
    cells = published_cells(episodes)
    attacker, _ = attack_rounded(every_publication(cells))
    assert assert_nothing_pinned(attacker, truth) == []
    # and the proof behind it: the published table satisfies everything the attacker knows, so for every
    # count of 1-4 there is a second candidate (a multiple of 5)
    published = {(c.practice_agb, c.month): c.counts for c in cells}
    witness = {key: published.get(key[:2], {}).get(key[2], 0) for key in attacker.index}
    by_id = {i: key for key, i in attacker.index.items()}
    for ids, lo, hi in attacker.constraints:
        assert lo <= sum(witness[by_id[i]] for i in ids) <= hi
    for p in PRACTICES:
        for m in MONTHS:
            SHAPE.check({name: witness[(p, m, name)] for name in COUNTS})


def legacy_shown(count: int) -> int | str:
    return "<5" if 0 < count < 5 else count


def legacy_split(counts: dict[str, int]) -> dict[str, int | str]:
    """The split as published before issue 17: a lone "<5" hid the smallest other non-zero cell too."""
    result = {c: legacy_shown(v) for c, v in counts.items()}
    small = [c for c, v in counts.items() if 0 < v < 5]
    if len(small) == 1:
        others = sorted((v, c) for c, v in counts.items() if v >= 5)
        if others:
            result[others[0][1]] = ">=5"
    return result


def attack_legacy(episodes: list[EpisodeSummary]) -> Attacker:
    """The same attacker against the figures the dashboard published before: exact counts, "<5" and ">=5"."""
    attacker = Attacker([(p, m) for p in PRACTICES for m in MONTHS])
    cells = raw_cells(episodes)

    def know(key, shown):
        if shown == "<5":
            attacker.know([key], 1, 4)
        elif shown == ">=5":
            attacker.know([key], 5, 10**9)
        else:
            attacker.know([key], shown, shown)

    for p in PRACTICES:
        for m in MONTHS:
            raw = cells[(p, m)].values if (p, m) in cells else {}
            know((p, m, "episodes"), legacy_shown(raw.get("episodes", 0)))
            if not 0 < raw.get("episodes", 0) < 5:
                for family in (DURATION_CLASSES, COURSES):
                    prefix = "duration" if family is DURATION_CLASSES else "course"
                    split = legacy_split({f"{prefix}:{c}": raw.get(f"{prefix}:{c}", 0) for c in family})
                    for name, shown in split.items():
                        know((p, m, name), shown)
                for name in ("escalated", *(f"reason:{r}" for r in ESCALATION_REASONS)):
                    know((p, m, name), legacy_shown(raw.get(name, 0)))
                for name in ("evaluations_due", "on_time", "overdue"):
                    know((p, m, name), legacy_shown(raw.get(name, 0)))
    return attacker


def test_the_same_attacker_pins_counts_under_the_method_used_before():
    pinned = []
    for seed in SEEDS:
        episodes = generated_cohort(seed)
        pinned += assert_nothing_pinned(attack_legacy(episodes), true_table(episodes))
    assert pinned, "the attacker found nothing against the old method: it would not catch a leak"
    assert any("duration:" in p or "course:" in p for p in pinned) and any(
        "overdue" in p or "on_time" in p for p in pinned
    )


def test_every_share_and_mean_is_computed_from_published_counts_only():
    episodes = generated_cohort(3)
    cells = published_cells(episodes)
    report = build_report(cells, scope="network", period=(None, None), practice=None, visible=lambda p: True)
    expected = figures(Tally.of(cells))
    for key, f in report.network.figures.items():
        assert (f.value, f.denominator) == (expected[key].value, expected[key].denominator)
