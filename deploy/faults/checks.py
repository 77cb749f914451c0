"""What a fault run is judged by: pure functions over what the stores and the receiver hold after the drain.

Nothing here does I/O: `observe.py` reads the database and the receiver into these shapes, and the unit tests
feed them hand-made data. Every function answers one question of the campaign's table: was anything accepted
lost, was anything done twice, was every event consumed once, was every event delivered once and in order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

# -- what was observed ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    """One event in a service's store (schema `store`, table events)."""

    store: str
    event_id: str
    type: str
    stream_id: str
    stream_version: int
    causation_id: str | None = None
    # What tells two effects of one cause apart (a timer, an evaluation number, a letter kind): events of one
    # type with the same cause and the same `detail` are the same effect recorded twice.
    detail: str = ""

    @property
    def short_type(self) -> str:
        return self.type.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Accepted:
    """A request the system answered 2xx: what it promised (the episode at least at `version`)."""

    step: str
    episode_id: str
    version: int


@dataclass(frozen=True)
class TimerRow:
    timer_id: str
    kind: str
    due_at: datetime
    fired_at: datetime | None
    cancelled_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    """One request the webhook endpoint got (the receiver's attempt log)."""

    webhook_id: str | None
    sequence: int
    status: int | None
    event_id: str | None = None  # known once the receiver verified and accepted it


@dataclass(frozen=True)
class Kept:
    """An event the receiver kept (once per CloudEvent id), in the order they first arrived."""

    event_id: str
    sequence: int
    subject: str
    type: str


TIMER_EVENT_TYPES = {
    "evaluation_due": "nl.ruggengraat.pathway.EvaluationDue",
    "evaluation_overdue": "nl.ruggengraat.pathway.EvaluationOverdue",
}


# -- accepted requests ---------------------------------------------------------------------------------------


def lost_acceptances(
    accepted: Iterable[Accepted], events: Iterable[StoredEvent], store: str = "intake"
) -> list[Accepted]:
    """Requests answered 2xx whose episode the store does not hold at the version the answer gave: an
    acknowledged write that is gone."""
    versions: dict[str, int] = defaultdict(int)
    for event in events:
        if event.store == store:
            versions[event.stream_id] = max(versions[event.stream_id], event.stream_version)
    return [a for a in accepted if versions.get(a.episode_id, 0) < a.version]


# -- events per type and duplicate effects -------------------------------------------------------------------


def events_per_type(events: Iterable[StoredEvent]) -> dict[str, dict[str, int]]:
    """{store: {short type: count}}, types sorted, stores in the order first seen."""
    counts: dict[str, Counter[str]] = {}
    for event in events:
        counts.setdefault(event.store, Counter())[event.short_type] += 1
    return {store: dict(sorted(c.items())) for store, c in counts.items()}


@dataclass
class Duplicate:
    what: str
    key: str
    count: int


def duplicate_effects(events: Iterable[StoredEvent], once_per_episode: Mapping[str, Iterable[str]]) -> list[Duplicate]:
    """Effects recorded more than once.

    - a consumed event (its `causation_id`) that led to two events of one type with the same detail
      (two BeloopClassified for one assessment, two letters of one kind for one cause);
    - two events of one timer (EvaluationDue, EvaluationOverdue carry the timer in `detail`);
    - in stores named in `once_per_episode`: a type the load sends once per episode, twice in one episode
      (a retried request that acted twice), or a ReferralReceived `detail` (the patient) in two episodes.
    """
    events = list(events)
    found: list[Duplicate] = []
    by_cause = Counter(  # the timers' events are counted per timer below, whatever their cause
        (e.store, e.type, e.causation_id, e.detail) for e in events if e.causation_id and e.type not in _TIMER_TYPES
    )
    found += [
        Duplicate(f"{store} {_short(kind)} for one cause", f"{cause} {detail}".strip(), n)
        for (store, kind, cause, detail), n in by_cause.items()
        if n > 1
    ]
    by_timer = Counter((e.store, e.type, e.detail) for e in events if e.type in _TIMER_TYPES)
    found += [
        Duplicate(f"{store} {_short(kind)} for one timer", d, n) for (store, kind, d), n in by_timer.items() if n > 1
    ]
    for store, types in once_per_episode.items():
        wanted = set(types)
        per_episode = Counter((e.stream_id, e.type) for e in events if e.store == store and e.type in wanted)
        found += [
            Duplicate(f"{store} {_short(kind)} twice in one episode", stream, n)
            for (stream, kind), n in per_episode.items()
            if n > 1
        ]
        patients: dict[str, set[str]] = defaultdict(set)
        for e in events:
            if e.store == store and e.type.endswith(".ReferralReceived") and e.detail:
                patients[e.detail].add(e.stream_id)
        found += [
            Duplicate(f"{store} one patient's referral in two episodes", patient, len(streams))
            for patient, streams in patients.items()
            if len(streams) > 1
        ]
    return found


_TIMER_TYPES = set(TIMER_EVENT_TYPES.values())


def _short(event_type: str) -> str:
    return event_type.rsplit(".", 1)[-1]


# -- consumption ---------------------------------------------------------------------------------------------


@dataclass
class Consumption:
    expected: int = 0
    once: int = 0
    missing: int = 0
    duplicated: int = 0  # inbox rows beyond the first for one event (the table's key forbids it: a broken inbox)
    dead_lettered: int = 0
    missing_examples: list[str] = field(default_factory=list)
    missing_by_type: dict[str, int] = field(default_factory=dict)  # "<store> <type>" → how many are missing

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.duplicated == 0 and self.dead_lettered == 0


def consumption(
    events: Iterable[StoredEvent],
    topic_store: Mapping[str, str],
    consumes: Mapping[str, Mapping[str, Iterable[str]]],
    inbox: Mapping[str, Sequence[str]],
    dead_letters: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Consumption]:
    """For each consumer: every event of the types it handles, on the topics it reads, in its inbox once.

    `topic_store` maps a topic to the store that produces it; `consumes[consumer][topic]` lists the types the
    consumer handles there (the others it ignores and never claims); `inbox[consumer]` lists the event ids
    claimed; a dead-lettered event counts as missing (its effect never happened) and apart as dead-lettered.
    """
    events = list(events)
    kind = {e.event_id: f"{e.store} {_short(e.type)}" for e in events}
    result: dict[str, Consumption] = {}
    for consumer, per_topic in consumes.items():
        expected: set[str] = set()
        for topic, types in per_topic.items():
            wanted = set(types)
            store = topic_store[topic]
            expected |= {e.event_id for e in events if e.store == store and e.type in wanted}
        claimed = Counter(inbox.get(consumer, ()))
        dead = set((dead_letters or {}).get(consumer, ())) & expected
        missing = sorted(expected - set(claimed))
        result[consumer] = Consumption(
            expected=len(expected),
            once=sum(1 for event_id in expected if claimed.get(event_id) == 1),
            missing=len(missing),
            duplicated=sum(n - 1 for event_id, n in claimed.items() if n > 1 and event_id in expected),
            dead_lettered=len(dead),
            missing_examples=missing[:5],
            missing_by_type=dict(Counter(kind[event_id] for event_id in missing)),
        )
    return result


# -- timers --------------------------------------------------------------------------------------------------


@dataclass
class Timers:
    fired: int = 0
    fired_twice: int = 0  # a timer with more than one event
    due_not_fired: int = 0  # due by the end and still open: a scheduler that stopped
    fired_without_event: int = 0
    event_without_timer: int = 0

    @property
    def ok(self) -> bool:
        return not (self.fired_twice or self.due_not_fired or self.fired_without_event or self.event_without_timer)


def timers(rows: Iterable[TimerRow], events: Iterable[StoredEvent], now: datetime) -> Timers:
    """Each timer fires once: one event per fired timer (its id in the event's `detail`), none for an open one,
    and none left open that was due at `now` (the shared clock at the end of the drain)."""
    events_of: Counter[tuple[str, str]] = Counter(
        (e.type, e.detail) for e in events if e.store == "pathway" and e.type in _TIMER_TYPES
    )
    result = Timers()
    known: set[tuple[str, str]] = set()
    for row in rows:
        kind = TIMER_EVENT_TYPES.get(row.kind)
        if kind is None:
            continue
        key = (kind, row.timer_id)
        known.add(key)
        n = events_of.get(key, 0)
        if row.fired_at is not None:
            result.fired += 1
            if n == 0:
                result.fired_without_event += 1
        elif n:
            result.event_without_timer += 1  # an event for a timer the table says never fired
        elif row.cancelled_at is None and row.due_at <= now:
            result.due_not_fired += 1
        if n > 1:
            result.fired_twice += 1
    result.event_without_timer += sum(1 for key in events_of if key not in known)
    return result


# -- deliveries ----------------------------------------------------------------------------------------------


@dataclass
class Deliveries:
    expected: int = 0
    once: int = 0
    missing: int = 0
    duplicated: int = 0  # events that came with a second webhook-id or sequence
    resent: int = 0  # the same webhook-id and sequence accepted again: Standard Webhooks' at-least-once
    retried: int = 0  # attempts the endpoint refused (or that failed) before one got through
    unexpected: int = 0  # kept events nobody expected (another practice's, or unknown ids)
    gaps: list[int] = field(default_factory=list)  # sequence numbers never seen
    out_of_order: int = 0  # arrivals with a lower sequence number than one before them
    missing_examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.unexpected or self.gaps or self.out_of_order)


def deliveries(expected: Iterable[str], attempts: Iterable[Attempt], kept: Sequence[Kept]) -> Deliveries:
    """One subscription's deliveries as its endpoint saw them.

    An event is delivered once when the endpoint kept it and every attempt that carried it had one webhook-id
    and one sequence number; accepting the same pair again is a re-send (counted apart), a second pair is a
    duplicate. Sequence numbers must run 1, 2, … without gaps, in the order they arrived.
    """
    expected = set(expected)
    attempts = list(attempts)
    event_of_webhook = {a.webhook_id: a.event_id for a in attempts if a.event_id is not None}
    pairs: dict[str, set[tuple[str | None, int]]] = defaultdict(set)
    accepted_pairs: Counter[tuple[str | None, int]] = Counter()
    result = Deliveries(expected=len(expected))
    for a in attempts:
        event_id = a.event_id or event_of_webhook.get(a.webhook_id)
        if event_id is not None:
            pairs[event_id].add((a.webhook_id, a.sequence))
        if a.status is not None and 200 <= a.status < 300:
            accepted_pairs[(a.webhook_id, a.sequence)] += 1
        else:
            result.retried += 1
    result.resent = sum(n - 1 for n in accepted_pairs.values() if n > 1)
    for k in kept:  # an event kept before the receiver restarted may be missing from the attempt log
        if all(sequence != k.sequence for _, sequence in pairs[k.event_id]):
            pairs[k.event_id].add((None, k.sequence))
    kept_ids = {k.event_id for k in kept}
    duplicated = {event_id for event_id, seen in pairs.items() if len(seen) > 1}
    result.duplicated = len(duplicated)
    missing = sorted(expected - kept_ids)
    result.missing = len(missing)
    result.missing_examples = missing[:5]
    result.unexpected = len(kept_ids - expected)
    result.once = len((expected & kept_ids) - duplicated)
    sequences = {k.sequence for k in kept} | {s for _, s in accepted_pairs}
    if sequences:
        result.gaps = sorted(set(range(1, max(sequences) + 1)) - sequences)
    highest = 0
    for k in kept:
        if k.sequence < highest:
            result.out_of_order += 1
        highest = max(highest, k.sequence)
    return result


# -- per-episode order ---------------------------------------------------------------------------------------


@dataclass
class Order:
    episodes: int = 0
    violations: int = 0  # episodes with at least one event out of causal order
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.violations == 0


def episode_order(kept: Sequence[Kept], events: Iterable[StoredEvent]) -> Order:
    """Per episode, in the order the endpoint first got them: each store's events in stream order, and no event
    before its cause (when the cause was delivered to this endpoint too)."""
    by_id = {e.event_id: e for e in events}
    arrived_at = {k.event_id: i for i, k in enumerate(kept)}
    per_episode: dict[str, list[Kept]] = defaultdict(list)
    for k in kept:
        per_episode[k.subject].append(k)
    result = Order(episodes=len(per_episode))
    for subject, arrived in per_episode.items():
        problems = []
        last_version: dict[str, int] = {}
        for k in arrived:
            event = by_id.get(k.event_id)
            if event is None:
                continue
            if event.stream_version < last_version.get(event.store, 0):
                problems.append(f"{event.short_type} v{event.stream_version} after v{last_version[event.store]}")
            last_version[event.store] = max(last_version.get(event.store, 0), event.stream_version)
            cause = event.causation_id
            if cause in arrived_at and arrived_at[cause] > arrived_at[k.event_id]:
                problems.append(
                    f"{event.short_type} before its cause {by_id[cause].short_type if cause in by_id else cause}"
                )
        if problems:
            result.violations += 1
            if len(result.examples) < 5:
                result.examples.append(f"{subject}: {problems[0]}")
    return result
