"""In which order one subscriber's lane sends its pending deliveries.

A lane has one request in flight at a time, and a delivery gets its sequence number when it is first
sent; so the receiver sees sequence numbers without gaps, in the order they were sent. Rules:
1. Deliveries that already carry a number (a failed attempt waiting for its retry, one sent just before a
   crash, a replay or a re-driven dead letter) go first, lowest number first. While the lowest one waits
   for its retry, the lane waits with it: sending a newer one first would open a gap.
2. Then unnumbered ones, by arrival, but only the oldest pending one of each episode (order per episode),
   and never before its cause when the cause is also pending for this subscription (causal order). Within
   an episode the cause goes first even when it arrived later (an event whose cause was late is fanned out
   when its hold expires, domain/holding.py, and the cause may still come). Should every episode's next
   delivery wait for a cause queued behind another's, the oldest goes anyway: a lane never stops for ever.
3. Among those, an episode with a pending escalation (priority > 0) goes ahead of other episodes'
   traffic: its earlier events first, then the escalation, so it arrives as soon as order allows.
"""

from __future__ import annotations

import heapq
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
    arrived: dict[str, list[Pending]] = {}
    for delivery in unnumbered:
        arrived.setdefault(delivery.subject, []).append(delivery)
    by_episode = {subject: deque(causes_first(queue)) for subject, queue in arrived.items()}
    waiting_events = {d.event_id for d in unnumbered}
    while len(chosen) < limit and by_episode:
        heads = [(max(d.priority for d in queue), queue[0]) for queue in by_episode.values()]
        eligible = [
            (urgency, h) for urgency, h in heads if h.causation_id is None or h.causation_id not in waiting_events
        ]
        if not eligible:
            # Each waits for a cause queued behind another episode's next one: only arrival order breaks that.
            eligible = [min(heads, key=lambda pair: pair[1].position)]
        _, best = min(eligible, key=lambda pair: (-pair[0], pair[1].position))
        chosen.append(best)
        waiting_events.discard(best.event_id)
        queue = by_episode[best.subject]
        queue.popleft()
        if not queue:
            del by_episode[best.subject]
    return chosen


def causes_first(episode: list[Pending]) -> list[Pending]:
    """One episode's deliveries in arrival order, except that none goes before its cause when the cause is in
    the list too: each time, the earliest arrived of those whose cause has gone (or is not in the list)."""
    here = {d.event_id for d in episode}
    waiting: dict[uuid.UUID, list[Pending]] = {}
    ready: list[tuple[int, int, Pending]] = []  # (position, tie-break, delivery), a heap
    for index, delivery in enumerate(episode):
        cause = delivery.causation_id
        if cause is not None and cause in here and cause != delivery.event_id:
            waiting.setdefault(cause, []).append(delivery)
        else:
            heapq.heappush(ready, (delivery.position, index, delivery))
    ordered: list[Pending] = []
    while ready:
        _, _, delivery = heapq.heappop(ready)
        ordered.append(delivery)
        for index, effect in enumerate(waiting.pop(delivery.event_id, [])):
            heapq.heappush(ready, (effect.position, -1 - index, effect))
    # Only a cycle of causes (which recorded events cannot form) is left: in arrival order, none lost.
    ordered += sorted((d for ds in waiting.values() for d in ds), key=lambda d: d.position)
    return ordered
