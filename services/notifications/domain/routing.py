"""Which events of a consumed batch go out at once, and which walk their episode's held events.

Most events go out as they arrive: their episode's parties are known, nothing of the episode is held,
their cause is out and nothing waits for them. Those are fanned out together, in arrival order. Any
other event takes the walk (one at a time, in arrival order), which holds or releases it by the rules of
`holding.py`. The store's state is read once, before the batch; routing accounts for what the batch's own
events change. A walk can only release held events, so state read before it can only send a later event
on the walk where it might have gone at once, and the walk then releases it at that same point: the
outcome is that of consuming the events one at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.notifications.domain.filters import EpisodeParties
from services.notifications.domain.holding import hold_reason


@dataclass(frozen=True)
class Arrival:
    event_id: uuid.UUID
    subject: str  # the episode
    causation_id: uuid.UUID | None
    parties: EpisodeParties | None = None  # what a ReferralReceived says about its episode


@dataclass(frozen=True)
class Known:
    """What the store knew of an arrival, read under its episode's lock before the batch was kept."""

    seen: bool  # the event was kept already
    parties: EpisodeParties | None
    episode_held: bool  # an event of the episode is held
    others_wait: bool  # a held event has this event as its cause
    cause_out: bool  # no cause, or the cause has been fanned out


@dataclass(frozen=True)
class AtOnce:
    """Consecutive arrivals that are kept as fanned out, each with its episode's parties."""

    arrivals: tuple[tuple[Arrival, EpisodeParties], ...]


@dataclass(frozen=True)
class Walk:
    """An arrival that is kept held, after which its episode's held events are walked."""

    arrival: Arrival


Step = AtOnce | Walk


def route(arrivals: Sequence[Arrival], known: Sequence[Known]) -> list[Step]:
    """The steps to take, in arrival order; events kept already (or earlier in the batch) are left out.

    What the batch changes: a referral makes its episode's parties known from there on; an event that
    went out at once is out as a cause; an event that takes the walk may stay held, so its episode counts
    as held and its cause as waited for (the walk finds out, and releases whatever may go).
    """
    steps: list[Step] = []
    run: list[tuple[Arrival, EpisodeParties]] = []
    learned: dict[str, EpisodeParties] = {}
    routed: set[uuid.UUID] = set()
    out: set[uuid.UUID] = set()
    walked_episodes: set[str] = set()
    walked_causes: set[uuid.UUID] = set()
    for arrival, state in zip(arrivals, known, strict=True):
        if state.seen or arrival.event_id in routed:
            continue
        routed.add(arrival.event_id)
        if arrival.parties is not None:
            learned.setdefault(arrival.subject, arrival.parties)
        parties = state.parties or learned.get(arrival.subject)
        held = state.episode_held or arrival.subject in walked_episodes
        waited_for = state.others_wait or arrival.event_id in walked_causes
        cause_pending = not (state.cause_out or arrival.causation_id in out)
        reason = hold_reason(
            parties_known=parties is not None, earlier_of_same_source_held=held, cause_pending=cause_pending
        )
        if reason is None and not waited_for:
            assert parties is not None
            run.append((arrival, parties))
            out.add(arrival.event_id)
            continue
        if run:
            steps.append(AtOnce(tuple(run)))
            run = []
        steps.append(Walk(arrival))
        walked_episodes.add(arrival.subject)
        if arrival.causation_id is not None:
            walked_causes.add(arrival.causation_id)
    if run:
        steps.append(AtOnce(tuple(run)))
    return steps
