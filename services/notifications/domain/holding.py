"""Whether a consumed event can be fanned out to subscriptions now, or must wait.

Notifications reads two topics; a pathway event can arrive before the intake event that caused it.
- Without the episode's parties (known from `ReferralReceived`) nobody can be told which subscriber it is
  for: it waits for them, however long it takes.
- An event never overtakes an earlier event of the same episode from the same source that is waiting; "earlier"
  is its place in the source's stream, not its arrival (after a broker came back empty, a later event can
  arrive first): held events are walked in `walk_order`.
- An event whose cause has not been fanned out yet waits for it, but only up to a deadline: a cause that
  never reaches this service (another topic, a dead-lettered record) must not hold an event for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol, TypeVar


class HoldReason(StrEnum):
    PARTIES = "parties"
    ORDER = "order"
    CAUSE = "cause"


def hold_reason(
    *,
    parties_known: bool,
    earlier_of_same_source_held: bool,
    cause_pending: bool,
    cause_deadline_passed: bool = False,
) -> HoldReason | None:
    if not parties_known:
        return HoldReason.PARTIES
    if earlier_of_same_source_held:
        return HoldReason.ORDER
    if cause_pending and not cause_deadline_passed:
        return HoldReason.CAUSE
    return None


class Held(Protocol):
    @property
    def source(self) -> str: ...

    @property
    def stream_version(self) -> int | None: ...


H = TypeVar("H", bound=Held)


def walk_order(held: Sequence[H]) -> list[H]:
    """An episode's held events (given in arrival order) in the order to walk them: each source's events in
    their stream order, in the places that source's events took in arrival order (sources stay interleaved
    as they arrived; causes across sources are the holds' business)."""
    by_source: dict[str, list[H]] = {}
    for event in held:
        by_source.setdefault(event.source, []).append(event)
    in_stream_order = {
        source: iter(sorted(events, key=lambda e: e.stream_version or 0)) for source, events in by_source.items()
    }
    return [next(in_stream_order[event.source]) for event in held]
