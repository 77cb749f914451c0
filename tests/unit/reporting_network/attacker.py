"""An attacker on the network's published figures: it knows every figure published for every range of
months and every practice filter, and the method, and derives bounds on the true counts.

Unknowns are the true counts of every (practice, month, count) of the table `counts.SHAPE`. Knowledge is
a list of linear constraints `lo <= sum(unknowns) <= hi`: the table's splits (true for every table), and
what each published figure tells. Bounds follow by propagation to a fixpoint (interval reasoning over
every constraint, as an LP relaxation would, on integers). A bound it derives is sound (the true table
always lies within it: the test checks that too), so a count pinned to 1-4 is a real disclosure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from services.reporting.domain.network.counts import SHAPE

INF = 10**9
Key = tuple[str, date, str]  # practice, month, count


@dataclass
class Attacker:
    cells: Sequence[tuple[str, date]]
    index: dict[Key, int] = field(default_factory=dict)
    constraints: list[tuple[tuple[int, ...], int, int]] = field(default_factory=list)
    equalities: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for practice, month in self.cells:
            for name in SHAPE.counts:
                self.index[(practice, month, name)] = len(self.index)
        self.lo = [0] * len(self.index)
        self.hi = [INF] * len(self.index)
        for practice, month in self.cells:
            for split in SHAPE.splits:
                self.equal_sums([(practice, month, split.parent)], [(practice, month, p) for p in split.parts])

    def ids(self, keys: Iterable[Key]) -> tuple[int, ...]:
        return tuple(self.index[k] for k in keys)

    def know(self, keys: Iterable[Key], lo: int, hi: int) -> None:
        """The true sum of `keys` lies in [lo, hi]."""
        self.constraints.append((self.ids(keys), max(0, lo), hi))

    def equal_sums(self, left: Sequence[Key], right: Sequence[Key]) -> None:
        """The true sums of `left` and `right` are equal (a split)."""
        self.equalities.append((self.ids(left), self.ids(right)))

    def solve(self, rounds: int = 200) -> None:
        lo, hi = self.lo, self.hi
        for _ in range(rounds):
            changed = False
            for ids, c_lo, c_hi in self.constraints:
                s_lo = sum(lo[i] for i in ids)
                s_hi = sum(hi[i] for i in ids)
                for i in ids:
                    new_lo = c_lo - (s_hi - hi[i])
                    new_hi = c_hi - (s_lo - lo[i])
                    if new_lo > lo[i]:
                        s_lo += new_lo - lo[i]
                        lo[i], changed = new_lo, True
                    if new_hi < hi[i]:
                        s_hi -= hi[i] - new_hi
                        hi[i], changed = new_hi, True
            for left, right in self.equalities:
                # sum(left) == sum(right): each side's bounds bound the other
                l_lo, l_hi = sum(lo[i] for i in left), sum(hi[i] for i in left)
                r_lo, r_hi = sum(lo[i] for i in right), sum(hi[i] for i in right)
                for side, other_lo, other_hi, own_lo, own_hi in (
                    (left, r_lo, r_hi, l_lo, l_hi),
                    (right, l_lo, l_hi, r_lo, r_hi),
                ):
                    for i in side:
                        new_lo = other_lo - (own_hi - hi[i])
                        new_hi = other_hi - (own_lo - lo[i])
                        if new_lo > lo[i]:
                            lo[i], changed = new_lo, True
                        if new_hi < hi[i]:
                            hi[i], changed = new_hi, True
            if not changed:
                return

    def bounds(self, keys: Iterable[Key]) -> tuple[int, int]:
        """Bounds of a sum of unknowns: from its unknowns' bounds and any constraint on exactly that sum."""
        ids = self.ids(keys)
        lo, hi = sum(self.lo[i] for i in ids), min(INF, sum(self.hi[i] for i in ids))
        for c_ids, c_lo, c_hi in self.constraints:
            if c_ids == ids:
                lo, hi = max(lo, c_lo), min(hi, c_hi)
        return lo, hi
