"""Controlled rounding to base 5, exhaustively over small tables, and the issue's own examples."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pytest

from services.reporting.domain.network.counts import SHAPE, published_cells
from services.reporting.domain.network.facts import EpisodeSummary
from shared.disclosure import (
    BASE,
    Magnitude,
    Split,
    TableShape,
    round_count,
    round_parts,
    round_table,
)


def adjacent(true: int, rounded: int) -> bool:
    return rounded % BASE == 0 and (rounded == true if true % BASE == 0 else abs(rounded - true) < BASE)


def test_a_count_rounds_to_an_adjacent_multiple_of_five_and_a_multiple_stays():
    rng = random.Random(1)
    for value in range(0, 60):
        for _ in range(20):
            assert adjacent(value, round_count(value, rng))
    assert {round_count(0, rng) for _ in range(50)} == {0}


def test_rounding_is_unbiased_on_average():
    rng = random.Random(7)
    assert abs(sum(round_count(3, rng) for _ in range(20_000)) / 20_000 - 3) < 0.1


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_parts_round_adjacent_and_add_up_to_either_rounding_of_their_total(size):
    rng = random.Random(size)
    for parts in itertools.product(range(0, 12), repeat=size):
        total = sum(parts)
        for rounded_total in {total - total % BASE, total - total % BASE + (BASE if total % BASE else 0)}:
            result = round_parts(parts, rounded_total, rng)
            assert sum(result) == rounded_total
            assert all(adjacent(p, r) for p, r in zip(parts, result, strict=True)), (parts, rounded_total, result)


def test_parts_refuse_a_total_that_is_not_adjacent():
    with pytest.raises(ValueError):
        round_parts([1, 1], 10, random.Random(0))


SMALL = TableShape(
    roots=("all",),
    splits=(Split("all", ("a", "b", "c")), Split("a", ("a1", "a2")), Split("all", ("x", "y"))),
    magnitudes=(Magnitude("days", "a"),),
    anchor="all",
)


def test_every_small_table_rounds_to_a_table_of_the_same_shape_whose_counts_are_adjacent():
    for a1, a2, b, c, x in itertools.product(range(0, 7), range(0, 7), range(0, 7), range(0, 7), range(0, 4)):
        total = a1 + a2 + b + c
        if x > total:
            continue
        values = {"all": total, "a": a1 + a2, "a1": a1, "a2": a2, "b": b, "c": c, "x": x, "y": total - x}
        counts, sums = round_table(SMALL, values, {"days": 3 * (a1 + a2)}, key="k")
        SMALL.check(counts)
        if counts["all"] == 0:
            assert set(counts.values()) == {0} and sums == {"days": 0}  # an empty cell, nothing else
        else:
            assert all(adjacent(values[n], counts[n]) for n in values)
            assert sums["days"] % BASE == 0 and (counts["a"] > 0 or sums["days"] == 0)


def test_the_same_cell_gives_the_same_figures_every_time():
    values = {"all": 7, "a": 3, "a1": 1, "a2": 2, "b": 2, "c": 2, "x": 3, "y": 4}
    first = round_table(SMALL, values, {"days": 9}, key="04000001|2026-03-01")
    assert all(round_table(SMALL, values, {"days": 9}, key="04000001|2026-03-01") == first for _ in range(20))


def test_a_table_whose_splits_do_not_add_up_is_refused():
    with pytest.raises(ValueError, match="all"):
        round_table(SMALL, {"all": 5, "a": 1, "a1": 1, "b": 1, "c": 1, "x": 5}, {}, key="k")


def _episode(duration: str, due: int = 0, on_time: int = 0, overdue: int = 0) -> EpisodeSummary:
    return EpisodeSummary(
        practice_agb="04123456",
        referral_month=date(2026, 3, 1),
        duration_class=duration,
        course="afwijkend",
        escalation_reasons=(),
        evaluations_due=due,
        evaluations_on_time=on_time,
        evaluations_overdue=overdue,
        sessions=1,
    )


def test_the_issues_practice_of_thirteen_shows_no_count_that_a_reader_can_subtract():
    # chronic 11, subacute 0, acute 1, unknown 1; evaluations due 23, on time 22, overdue 1
    episodes = [_episode("chronic", 2, 2) for _ in range(10)] + [_episode("chronic", 1, 1)]
    episodes += [_episode("acute", 1, 0, 1), _episode("unknown", 1, 1)]
    (cell,) = published_cells(episodes)
    SHAPE.check(cell.counts)
    assert all(value % BASE == 0 for value in cell.counts.values())
    duration = [cell.counts[f"duration:{c}"] for c in ("acute", "subacute", "chronic", "unknown")]
    assert sum(duration) == cell.counts["episodes"] in (10, 15)
    assert cell.counts["on_time"] + cell.counts["overdue"] + cell.counts["pending"] == cell.counts["evaluations_due"]
