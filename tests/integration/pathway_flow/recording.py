"""Histories recorded the way the pathway records them: generated intake events (`deploy.intake_history`) put through
the real consumer and, between them, the real timer scheduler, in time order on PostgreSQL. The what-if's tests,
its CLI test and its page's browser test record their cohorts with it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

import asyncpg

from deploy.intake_history import episode_events
from services.pathway.domain.protocol import GUIDELINE_PROTOCOL
from services.pathway.handlers import INTAKE_EVENTS
from services.pathway.scheduler import SchedulerConfig, TimerScheduler
from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import IdempotentConsumer, Outcome
from shared.events import REGISTRY, new_envelope
from shared.events.payload import EventPayload
from shared.store.event_store import EventStore

STORE = EventStore("pathway", REGISTRY)
OWN, OTHER = "04120000", "04120001"  # the practices of cohorts 0 and 1 (`record_cohort`)

Timeline = list[tuple[datetime, str, int, EventPayload]]  # (moment, episode id, stream version, intake event)


def timeline_of(specs: Sequence[tuple[str, dict, int, date]]) -> Timeline:
    """The intake events of each (episode id, spec, cohort index n, first day) at their moments, in time order."""
    timeline = [
        (moment, episode, version, payload)
        for episode, spec, n, first_day in specs
        for version, (moment, payload) in enumerate(episode_events(spec, n, first_day), start=1)
    ]
    return sorted(timeline, key=lambda item: item[:3])


async def record(
    pool: asyncpg.Pool, clock: ManualClock, timeline: Timeline, until: datetime | None = None, *, timers: bool = True
) -> None:
    """Each intake event consumed at its moment, the timers whose moment came fired first (unless `timers` is
    False); then, given `until`, the clock moved there and the timers due by then fired."""
    consumer = IdempotentConsumer("pathway", pool, STORE, REGISTRY, [INTAKE_EVENTS], clock)
    scheduler = TimerScheduler(pool, STORE, clock, SchedulerConfig(0.01, 50, GUIDELINE_PROTOCOL.overdue_grace))
    for offset, (moment, episode, version, payload) in enumerate(timeline):
        clock.set(moment)
        while timers and (await scheduler.run_once()).claimed:
            pass
        envelope = new_envelope(
            payload, service="intake", subject=episode, stream_version=version, time=moment, correlation_id=uuid.uuid4()
        )
        record = Record("intake.events", 0, offset, episode.encode(), envelope.to_json())
        assert await consumer.process(record) is Outcome.HANDLED
    if until is not None:
        clock.set(until)
        while timers and (await scheduler.run_once()).claimed:
            pass


async def record_cohort(
    pool: asyncpg.Pool, clock: ManualClock, sizes: dict[int, int], first_day: date = date(2027, 1, 3)
) -> dict[str, str]:
    """Episodes referred from `first_day` on, in its month, recorded (`record`, the timers up to June fired): `sizes`
    maps a cohort index n (its practice is 0412000n) to how many; returns each episode's practice."""
    base = {"minute": 0, "onset_days": 120, "deviating": True, "radicular": False, "start_after": 2, "baseline": 4}
    specs, practices = [], {}
    for n, size in sizes.items():
        for i in range(size):
            episode = str(uuid.uuid4())
            practices[episode] = f"0412{n:04d}"
            spec = {**base, "referred": i, "evaluations": [(21, 4 - i % 3)], "closed_after": None}
            specs.append((episode, spec, n, first_day))
    timeline = timeline_of(specs)
    await record(pool, clock, timeline, max(timeline[-1][0], datetime(2027, 6, 1, 9, 0, tzinfo=UTC)))
    return practices
