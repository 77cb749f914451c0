"""Pathway decides a batch of intake events exactly as it decides them one at a time."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import pytest

from services.pathway.handlers import INTAKE_EVENTS
from services.pathway.projection import EpisodeView
from services.pathway.store import episodes
from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import IdempotentConsumer, Outcome
from shared.events import REGISTRY, clinical, new_envelope
from shared.events.intake import (
    AssessmentCompleted,
    EpisodeClosed,
    MeasurementRecorded,
    TreatmentPlanAgreed,
    sample_referral,
)
from shared.store.event_store import EventStore
from tests.unit.pathway_flow.test_reactions import DEVIATING_COURSE, START, WITHIN, history, qbpds

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
STORE = EventStore("pathway", REGISTRY)


def intake_records(episode: str, onset_days: int) -> list[Record]:
    payloads = [
        sample_referral(),
        history(START - timedelta(days=onset_days), course=DEVIATING_COURSE),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
    ]
    records = []
    for version, payload in enumerate(payloads, start=1):
        envelope = new_envelope(
            payload,
            service="intake",
            subject=episode,
            stream_version=version,
            time=NOW + timedelta(minutes=version),
            correlation_id=uuid.uuid4(),
        )
        records.append(Record("intake.events", 0, version, episode.encode(), envelope.to_json()))
    return records


def consumer(pool: asyncpg.Pool) -> IdempotentConsumer:
    return IdempotentConsumer("pathway", pool, STORE, REGISTRY, [INTAKE_EVENTS], ManualClock(NOW))


async def decisions(pool: asyncpg.Pool, episode: str) -> list[tuple]:
    rows = await pool.fetch(
        "SELECT e.stream_version, e.event_type, e.data - 'timer_id' AS data, c.stream_version AS caused_by"
        " FROM events e JOIN intake_events c ON c.event_id = e.causation_id"
        " WHERE e.stream_id = $1 ORDER BY e.stream_version",
        episode,
    )
    return [tuple(r) for r in rows]


async def test_a_batch_of_two_episodes_interleaved_decides_as_one_at_a_time(pool: asyncpg.Pool):
    alone_a, alone_b, batched_a, batched_b = (str(uuid.uuid4()) for _ in range(4))
    one_by_one = consumer(pool)
    for record in [*intake_records(alone_a, 40), *intake_records(alone_b, 200)]:
        assert await one_by_one.process(record) is Outcome.HANDLED

    a, b = intake_records(batched_a, 40), intake_records(batched_b, 200)
    interleaved = [a[0], b[0], a[1], b[1], a[2], b[2]]
    outcomes = await consumer(pool).process_batch([*interleaved, a[1]])  # and one redelivered inside the batch
    assert outcomes == [Outcome.HANDLED] * 6 + [Outcome.DUPLICATE]

    for alone, batched in [(alone_a, batched_a), (alone_b, batched_b)]:
        expected = await decisions(pool, alone)
        assert expected, "the one-at-a-time episode got decisions"
        assert [row[1].rsplit(".", 1)[1] for row in expected][:2] == ["EvaluationScheduled", "BeloopClassified"]
        assert await decisions(pool, batched) == expected
    assert await consumer(pool).process_batch(interleaved) == [Outcome.DUPLICATE] * 6
    assert len(await decisions(pool, batched_a)) == len(await decisions(pool, alone_a))


async def test_closing_stops_the_timers_plans_nothing_more_and_closes_the_escalations_as_the_events_say(pool):
    episode = str(uuid.uuid4())
    week3 = START + timedelta(days=21)
    treated = [
        sample_referral(),
        history(START - timedelta(days=120), course=DEVIATING_COURSE),
        AssessmentCompleted(assessed_on=START, scope=WITHIN),
        MeasurementRecorded(occasion="intake", measurement=qbpds(3)),
        TreatmentPlanAgreed(
            agreed_on=START,
            start_date=START,
            interventions=(clinical.PlannedIntervention(modality="exercise_therapy", main_component=True),),
        ),
        evaluation(1, week3),  # no progress: completed, escalated to the referrer, the next one planned
    ]
    on = [START] * 5 + [week3]
    records = [
        intake_record(episode, v, payload, day)
        for v, (payload, day) in enumerate(zip(treated, on, strict=True), start=1)
    ]
    assert await consumer(pool).process_batch(records) == [Outcome.HANDLED] * len(records)
    await project(pool, episode)
    referrer = sample_referral().referrer_agb
    assert referrer is not None
    async with pool.acquire() as conn:
        assert episode in dict(await episodes.open_escalations(conn, "referrer", referrer))
    assert await open_timers(pool, episode) == [("evaluation_due", 2)]

    closing = intake_record(episode, 7, EpisodeClosed(closed_on=week3, reason="escalated_to_verwijzer"), week3)
    week6 = week3 + timedelta(days=21)
    late = intake_record(episode, 8, evaluation(2, week6), week6)  # an evaluation recorded after closing
    assert await consumer(pool).process_batch([closing, late]) == [Outcome.HANDLED] * 2
    await project(pool, episode)
    assert await open_timers(pool, episode) == []
    scheduled = [json.loads(r[2])["evaluation_number"] for r in await decisions(pool, episode) if "Scheduled" in r[1]]
    assert scheduled == [1, 1, 2]  # planned, moved to the start of treatment, the next: never a third
    async with pool.acquire() as conn:
        assert episode not in dict(await episodes.open_escalations(conn, "referrer", referrer))


def evaluation(number: int, on) -> MeasurementRecorded:
    return MeasurementRecorded(
        occasion="evaluation", evaluation_number=number, measurement=qbpds(3).model_copy(update={"taken_on": on})
    )


def intake_record(episode: str, version: int, payload, on: date) -> Record:
    envelope = new_envelope(
        payload,
        service="intake",
        subject=episode,
        stream_version=version,
        time=datetime.combine(on, time(9, version), UTC),
        correlation_id=uuid.uuid4(),
    )
    return Record("intake.events", 0, version, episode.encode(), envelope.to_json())


async def project(pool: asyncpg.Pool, episode: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        stored = await STORE.read_stream(conn, episode)
        await conn.execute("DELETE FROM episode_view WHERE episode_id = $1", episode)
        await EpisodeView().apply_batch(conn, [(e, e.payload(REGISTRY)) for e in stored])


async def open_timers(pool: asyncpg.Pool, episode: str) -> list[tuple[str, int]]:
    rows = await pool.fetch(
        "SELECT kind, sequence FROM timers WHERE episode_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
        episode,
    )
    return sorted((r["kind"], r["sequence"]) for r in rows)
