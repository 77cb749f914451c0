"""In which order one subscriber's lane sends its pending deliveries.

A lane has one request in flight at a time, and a delivery gets its sequence number when it is first
sent; so the receiver sees sequence numbers without gaps, in the order they were sent. Rules:
1. Deliveries that already carry a number (a failed attempt waiting for its retry, one sent just before a
   crash, a replay or a re-driven dead letter) go first, lowest number first. While the lowest one waits
   for its retry, the lane waits with it: sending a newer one first would open a gap.
2. Then unnumbered ones, by arrival, but only the oldest pending one of each episode (order per episode),
   and never before its cause when the cause is also pending for this subscription (causal order).
3. Among those, an episode with a pending escalation (priority > 0) goes ahead of other episodes'
   traffic: its earlier events first, then the escalation, so it arrives as soon as order allows.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ESCALATION_PRIORITY = 10


@dataclass(frozen=True)
class Pending:
    delivery_id: uuid.UUID
    position: int  # arrival order of the delivery
    subject: str  # the episode
    event_id: uuid.UUID
    causation_id: uuid.UUID | None
    sequence: int | None
    priority: int
    next_attempt_at: datetime


def plan(pending: Iterable[Pending], now: datetime, limit: int) -> list[Pending]:
    """The next deliveries to send, in the order to send them (at most `limit`)."""
    numbered = sorted((p for p in pending if p.sequence is not None), key=lambda p: p.sequence or 0)
    unnumbered = sorted((p for p in pending if p.sequence is None), key=lambda p: p.position)
    chosen: list[Pending] = []
    for delivery in numbered:
        if delivery.next_attempt_at > now or len(chosen) >= limit:
            return chosen
        chosen.append(delivery)
    by_episode: dict[str, deque[Pending]] = {}
    for delivery in unnumbered:
        by_episode.setdefault(delivery.subject, deque()).append(delivery)
    waiting_events = {d.event_id for d in unnumbered}
    while len(chosen) < limit and by_episode:
        heads = [(max(d.priority for d in queue), queue[0]) for queue in by_episode.values()]
        eligible = [
            (urgency, h) for urgency, h in heads if h.causation_id is None or h.causation_id not in waiting_events
        ]
        if not eligible:
            break  # only a cause from outside this window could unblock them; a later round will
        _, best = min(eligible, key=lambda pair: (-pair[0], pair[1].position))
        chosen.append(best)
        waiting_events.discard(best.event_id)
        queue = by_episode[best.subject]
        queue.popleft()
        if not queue:
            del by_episode[best.subject]
    return chosen
