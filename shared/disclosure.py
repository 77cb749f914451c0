"""Disclosure control of the network's figures (the reporting service's quality view, and the pathway's what-if of
a draft protocol, publish through it): controlled rounding to base 5 over a table of nested
partitions, as statistics offices publish small-area tables (Cox 1987; CBS and ONS round to base 5).
Pure: no I/O, no clock, no global random state.

The method, and why it holds:
- The unit of publication is one cell of the table: one practice in one month of referral. Every count of
  a cell is published rounded to a multiple of `BASE` (5), up or down to an adjacent multiple (a count that
  already is a multiple of 5, zero included, stays as it is), at random but repeatably: the draw is seeded
  with the cell's key and its contents, so asking again gives the same figures and averaging repeated
  answers learns nothing.
- The rounding is *controlled*: a cell's counts form a tree of complete splits (episodes = acute +
  subacute + chronic + unknown; escalated = with reason r + without reason r; …), rounded from the top
  down so that every split still adds up exactly in the published figures. A cell whose episodes round to
  0 is published as zeros throughout (an empty cell), so no figure contradicts another; the table leaves
  it out like a cell without episodes (`counts.published_cells`), or its mere row would tell "1 to 4".
- Every other figure (a range of months, a practice's year, all practices, all but one, shares, means,
  trends, funnel plots, the visitation report) is computed from the *published* cells, never from the
  raw data. Nothing but the rounded table is ever released.
- So the rounded table R is itself a table the published figures could have come from: it satisfies
  every split, and rounds to itself. For any count (a cell, or any sum or difference of cells, over any
  range and any set of practices) whose true value is 1 to 4, R holds a multiple of 5 there: a reader who
  knows every published figure and the method still has at least two candidate values (the true one and
  R's) and can never pin the count down. Differencing two queries yields a difference of multiples of 5.
- Magnitudes (sessions beyond the first, days waited, points improved) are rounded to base 5 too and are
  0 wherever their group rounds to 0, so they never contradict R either.

What this does not cover: a reader who saw the figures before *and after* one known episode was added
may combine the two publications; the dashboard is a monitor for coordinators, not open data.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

BASE = 5


@dataclass(frozen=True)
class Split:
    """`parent` = the sum of `parts`, each a count in the same table."""

    parent: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Magnitude:
    """A sum of values (not of people) over the members of count `over`, e.g. days waited."""

    name: str
    over: str


@dataclass(frozen=True)
class TableShape:
    """The counts of one cell and how they split. `roots` are rounded on their own; every other count is
    a part of exactly one split, listed after its parent's split (top-down order)."""

    roots: tuple[str, ...]
    splits: tuple[Split, ...]
    magnitudes: tuple[Magnitude, ...] = ()
    #: when this root rounds to 0 the whole cell is published as zeros
    anchor: str | None = None

    @property
    def counts(self) -> tuple[str, ...]:
        names = list(self.roots)
        for split in self.splits:
            names.extend(p for p in split.parts if p not in names)
        return tuple(names)

    def check(self, values: Mapping[str, int]) -> None:
        """Raise ValueError when `values` is no table of this shape (a split that does not add up)."""
        for name in self.counts:
            if values.get(name, 0) < 0:
                raise ValueError(f"{name}: a count must not be negative")
        for split in self.splits:
            total = sum(values.get(p, 0) for p in split.parts)
            if total != values.get(split.parent, 0):
                raise ValueError(f"{split.parent}: {total} in its parts, {values.get(split.parent, 0)} in all")


def seed_of(key: str, values: Mapping[str, int]) -> int:
    """A repeatable seed from a cell's key and contents: the same cell gives the same draw."""
    text = key + "|" + ",".join(f"{k}={values[k]}" for k in sorted(values))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def round_count(value: int, rng: random.Random) -> int:
    """Unbiased random rounding to an adjacent multiple of BASE; a multiple of BASE stays."""
    low, rest = divmod(value, BASE)
    if rest == 0:
        return value
    return (low + (1 if rng.random() < rest / BASE else 0)) * BASE


def round_parts(parts: Sequence[int], total: int, rng: random.Random) -> list[int]:
    """Round `parts` to adjacent multiples of BASE that add up to `total` (the parent's rounded value,
    adjacent to the parts' true sum). Which parts go up is drawn with weights of their remainders."""
    floors = [p - p % BASE for p in parts]
    ups = (total - sum(floors)) // BASE
    candidates = [i for i, p in enumerate(parts) if p % BASE]
    true_total = sum(parts)
    if total % BASE or abs(total - true_total) >= BASE or not 0 <= ups <= len(candidates):
        raise ValueError(f"{total} is not adjacent to the parts {list(parts)}")
    chosen: set[int] = set()
    weights = {i: parts[i] % BASE for i in candidates}
    for _ in range(ups):
        pool = [i for i in candidates if i not in chosen]
        chosen.add(rng.choices(pool, [weights[i] for i in pool])[0])
    return [f + (BASE if i in chosen else 0) for i, f in enumerate(floors)]


def round_table(
    shape: TableShape, values: Mapping[str, int], magnitudes: Mapping[str, int], key: str
) -> tuple[dict[str, int], dict[str, int]]:
    """The published counts and magnitudes of one cell: controlled rounding to base 5 (see the module)."""
    shape.check(values)
    rng = random.Random(seed_of(key, {**values, **{f"sum:{k}": v for k, v in magnitudes.items()}}))
    published = {root: round_count(values.get(root, 0), rng) for root in shape.roots}
    if shape.anchor is not None and published[shape.anchor] == 0:
        return {name: 0 for name in shape.counts}, {m.name: 0 for m in shape.magnitudes}
    for split in shape.splits:
        parts = [values.get(p, 0) for p in split.parts]
        for name, rounded in zip(split.parts, round_parts(parts, published[split.parent], rng), strict=True):
            published[name] = rounded
    rounded_magnitudes = {
        m.name: 0 if published[m.over] == 0 else round_count(magnitudes.get(m.name, 0), rng) for m in shape.magnitudes
    }
    return published, rounded_magnitudes
