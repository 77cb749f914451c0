"""How far the flow is: snapshots of every stage's backlog, when it drained, whether it stalled, how long it
took to recover after a fault. Pure: `observe.py` takes the snapshots, the unit tests make them by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Snapshot:
    """The flow at one moment (`at`: seconds since the load started)."""

    at: float
    unrelayed: Mapping[str, int] = field(default_factory=dict)  # store → events after its relay's checkpoint
    unconsumed: Mapping[str, int] = field(default_factory=dict)  # consumer → events it handles, not in its inbox
    held: int = 0  # notifications: received events not yet fanned out to subscriptions
    pending_deliveries: int = 0
    delivered: int = 0  # deliveries the database says went through
    received: int | None = None  # events the webhook endpoint kept; None: not asked
    timers_due: int = 0  # due by the shared clock and not fired
    counters: tuple[int, ...] = ()  # only ever grow while the flow moves (events, inbox rows, deliveries, …)


def outstanding(snapshot: Snapshot) -> dict[str, int]:
    """What is still on its way, by stage; empty when everything drained."""
    items = {f"{store} relay": n for store, n in snapshot.unrelayed.items()}
    items |= {f"{consumer} inbox": n for consumer, n in snapshot.unconsumed.items()}
    items["fan-out"] = snapshot.held
    items["deliveries"] = snapshot.pending_deliveries
    items["timers due"] = snapshot.timers_due
    if snapshot.received is not None:
        items["endpoint behind"] = max(0, snapshot.delivered - snapshot.received)
    return {name: n for name, n in items.items() if n > 0}


def backlog(snapshot: Snapshot) -> int:
    return sum(outstanding(snapshot).values())


def describe(snapshot: Snapshot | None) -> str:
    if snapshot is None:
        return "database unreachable"
    items = outstanding(snapshot)
    return ", ".join(f"{name} {n}" for name, n in items.items()) or "drained"


class StallWatch:
    """Drained, progressing, or stalled: stalled when nothing moved for `stall_after` seconds and work is left.
    A snapshot that could not be taken (None) is no progress."""

    def __init__(self, stall_after: float, started: float) -> None:
        self.stall_after = stall_after
        self.last_key: tuple[int, ...] | None = None
        self.last_change = started

    def update(self, snapshot: Snapshot | None, now: float) -> str:
        if snapshot is not None:
            if not outstanding(snapshot):
                return "drained"
            if snapshot.counters != self.last_key:
                self.last_key = snapshot.counters
                self.last_change = now
        return "stalled" if now - self.last_change >= self.stall_after else "progressing"


@dataclass(frozen=True)
class Recovery:
    flowing_after: float | None  # fault end → the flow's tail (deliveries) moved again, or nothing was waiting
    caught_up_after: float | None  # fault end → the backlog back to what it was before the fault


def recovery(samples: Sequence[Snapshot | None], fault_start: float, fault_end: float, warmup: float = 3.0) -> Recovery:
    """From the samples taken every second or so (None: the database did not answer; their times are unknown,
    so only the taken ones count). The backlog before the fault (after `warmup`) is the baseline: caught up
    means back within half of it again (and at least 20 items) of that."""
    taken = [s for s in samples if s is not None]
    before = [backlog(s) for s in taken if warmup <= s.at < fault_start]
    baseline = max(before) if before else 0
    threshold = baseline + max(20, baseline // 2)
    after = [s for s in taken if s.at >= fault_end]
    caught_up = next((s.at - fault_end for s in after if backlog(s) <= threshold), None)
    flowing = None
    previous = next((s for s in reversed(taken) if s.at < fault_end), None)
    for s in after:
        if not outstanding(s) or (previous is not None and s.delivered > previous.delivered):
            flowing = s.at - fault_end
            break
        previous = s
    return Recovery(flowing, caught_up)
