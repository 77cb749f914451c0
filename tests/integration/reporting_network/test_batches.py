"""Reporting's read models on real Postgres, fed a batch at a time through the idempotent consumer: a batch
(several events of one episode, several episodes, an event twice, an event handled before) leaves the
overview, the letters and the network figures exactly as its events one at a time do, with a constant
number of statements per read model."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta

import asyncpg
import pytest

from services.reporting.domain.letters.episode import LetterEpisode
from services.reporting.domain.network.counts import published_cells
from services.reporting.domain.network.facts import REFERRAL
from services.reporting.handlers import BATCH_HANDLERS, OVERVIEW
from services.reporting.store import network as network_store
from shared.clock import ManualClock
from shared.consumer.dead_letters import Record
from shared.consumer.idempotent import ConsumedEvent, IdempotentConsumer, Outcome
from shared.events import REGISTRY, Envelope, intake, new_envelope, pathway
from shared.events.payload import EventPayload
from shared.store.event_store import EventStore
from shared.store.migrate import event_store_migrations, migrations_in
from shared.store.unit_of_work import UnitOfWork
from tests.conftest import schema_pool
from tests.integration.reporting_network.episodes import START, episode_records, interleaved
from tests.support import LoggedPool

pytestmark = pytest.mark.integration

PRACTICE_A, PRACTICE_B = "04111111", "04222222"
READ_MODELS = {
    "episode_overview": "SELECT * FROM episode_overview ORDER BY episode_id",
    "letter_episodes": "SELECT episode_id, facts::text, composed FROM letter_episodes ORDER BY episode_id",
    "letters": "SELECT * FROM letters ORDER BY letter_id",
    "network_episodes": "SELECT * FROM network_episodes ORDER BY episode_id",
    "network_received_events": "SELECT event_id, episode_id, event_type, stream_version, occurred_at, data::text"
    " FROM network_received_events ORDER BY seq",
    "events": "SELECT stream_id, stream_version, event_type, occurred_at, correlation_id, causation_id, data::text"
    " FROM events ORDER BY stream_id, stream_version",
}


def consumer(pool) -> IdempotentConsumer:
    store = EventStore("reporting", REGISTRY)
    return IdempotentConsumer("reporting", pool, store, REGISTRY, BATCH_HANDLERS, ManualClock(START), max_attempts=1)


@pytest.fixture
async def pools(infrastructure) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    migrations = event_store_migrations() + migrations_in("services.reporting")
    async with (
        schema_pool(infrastructure.database_url, migrations, prefix="rb1") as one_by_one,
        schema_pool(infrastructure.database_url, migrations, prefix="rb2") as batched,
    ):
        yield one_by_one, batched


async def read_models(pool: asyncpg.Pool) -> dict[str, list[dict]]:
    async with pool.acquire() as conn:
        models = {name: [dict(r) for r in await conn.fetch(query)] for name, query in READ_MODELS.items()}
        summaries = await network_store.summaries(conn, None, None, None)
        models["summaries"] = sorted((dataclasses.asdict(s) for s in summaries), key=repr)
        models["figures"] = [dataclasses.asdict(c) for c in published_cells(summaries)]
    return models


def table_of(statement: str) -> str:
    words = statement.replace("(", " ").split()
    for table in ("episode_overview", "letter_episodes", "letters", "network_received_events", "network_episodes"):
        if table in words:
            return table
    return "events" if "events" in words else "other"


def expected_letter_keys(records: list[Record]) -> set[tuple[str, str]]:
    """(episode, letter key) of every letter due when each episode's events are folded in arrival order."""
    episodes: dict[str, LetterEpisode] = {}
    due = set()
    for record in records:
        envelope = Envelope.from_json(record.value)
        payload = REGISTRY.decode(envelope)  # events of other types leave the letter facts as they are
        episode = episodes.setdefault(envelope.subject, LetterEpisode())
        due |= {(envelope.subject, key) for key, _ in episode.follow(payload, envelope.time.date())}
    return due


async def letter_keys(pool: asyncpg.Pool) -> set[tuple[str, str]]:
    async with pool.acquire() as conn:
        return {(str(r[0]), r[1]) for r in await conn.fetch("SELECT episode_id, letter_key FROM letters")}


def _introspection(statement: str) -> bool:
    """asyncpg's own queries, the first time it meets a type on a connection."""
    return "typeinfo" in statement or "'jit'" in statement


async def test_a_batch_leaves_every_read_model_as_its_events_one_at_a_time_do(pools):
    rng = random.Random(11)
    months = [date(2026, 11, 3), date(2026, 12, 1)]
    episodes = [episode_records(rng, (PRACTICE_A, PRACTICE_B)[i % 2], months[i % 2], erased=i == 2) for i in range(8)]
    stream = interleaved(rng, episodes)
    before, rest = stream[:30], stream[30:]
    handled_before = before[0]
    batch = rest[:20] + [rest[5]] + rest[20:] + [handled_before]  # an event twice, and one handled before
    assert len({r.key for r in rest}) == len(episodes) and max(Counter(r.key for r in rest).values()) > 5
    assert {r.key for r in before} == {r.key for r in rest}  # so the batch finds every episode's rows

    one_by_one, batched = pools
    single = consumer(one_by_one)
    for record in before:
        assert await single.process(record) is Outcome.HANDLED
    expected_outcomes = [await single.process(record) for record in batch]

    counted = LoggedPool(batched)
    together = consumer(counted)
    for record in before:
        assert await together.process(record) is Outcome.HANDLED
    letters_before = await letter_keys(batched)
    counted.statements.clear()
    outcomes = await together.process_batch(batch)
    await asyncio.sleep(0.05)  # query loggers are called soon, not at once

    assert outcomes == expected_outcomes
    assert outcomes.count(Outcome.DUPLICATE) == 2 and outcomes.count(Outcome.HANDLED) == len(rest)
    expected, got = await read_models(one_by_one), await read_models(batched)
    for name in expected:
        assert got[name] == expected[name], name
    assert len(got["episode_overview"]) == len(got["network_episodes"]) == len(episodes)
    assert sum(r["personal_data_erased"] for r in got["episode_overview"]) == 1
    assert sum(r["evaluations_scheduled"] for r in got["episode_overview"]) > 0
    assert len(got["summaries"]) == len(episodes)
    # four episodes per practice and month: rounded to 5, or to 0 and left out
    assert {c["counts"]["episodes"] for c in got["figures"]} <= {5}
    assert await letter_keys(batched) == expected_letter_keys(stream)
    composed_in_batch = await letter_keys(batched) - letters_before
    assert {key for _, key in composed_in_batch} >= {"start", "final"} and len(composed_in_batch) > 5

    # handled together in one transaction, with a constant number of statements per read model
    statements = Counter(table_of(s) for s in counted.statements if not _introspection(s))
    assert statements["other"] == 3  # BEGIN, the inbox, COMMIT: the batch did not fall back to one at a time
    assert statements["episode_overview"] == 1
    assert statements["letter_episodes"] == 2 and statements["letters"] == 1 and statements["events"] == 2
    assert statements["network_received_events"] == 1 and statements["network_episodes"] == 2


async def test_statements_per_batch_do_not_grow_with_the_batch(pools):
    _, pool = pools
    counted = LoggedPool(pool)
    rng = random.Random(5)
    small = interleaved(rng, [episode_records(rng, PRACTICE_A, date(2026, 11, 3)) for _ in range(2)])
    large = interleaved(rng, [episode_records(rng, PRACTICE_B, date(2026, 11, 3)) for _ in range(12)])
    counts = []
    for records in (small, large):
        counted.statements.clear()
        outcomes = await consumer(counted).process_batch(records)
        await asyncio.sleep(0.05)
        assert set(outcomes) == {Outcome.HANDLED}
        counts.append(Counter(table_of(s) for s in counted.statements if not _introspection(s)))
    assert counts[0] == counts[1], counts
    # new episodes: their rows are created after the lock found none
    assert counts[0] == {
        "other": 3,  # BEGIN, inbox, COMMIT
        "episode_overview": 1,
        "letter_episodes": 3,  # lock, create, write back
        "letters": 1,
        "events": 2,  # stream versions, append
        "network_received_events": 1,
        "network_episodes": 3,  # lock, create, write back
    }


async def test_two_transactions_creating_one_episode_fold_one_after_the_other(pools):
    _, pool = pools
    episode = uuid.uuid4()
    async with pool.acquire() as first, pool.acquire() as second:
        first_transaction, second_transaction = first.transaction(), second.transaction()
        await first_transaction.start()
        facts = (await network_store.lock_episodes(first, [episode]))[episode]
        facts.apply(REFERRAL, 1, {"practice_agb": PRACTICE_A, "referred_on": "2026-11-03"})
        await second_transaction.start()
        waiting = asyncio.create_task(network_store.lock_episodes(second, [episode]))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # it waits for the row the first one created
        await network_store.save_episodes(first, {episode: facts})
        await first_transaction.commit()
        seen = (await asyncio.wait_for(waiting, 10))[episode]
        await second_transaction.rollback()
    assert seen.practice_agb == PRACTICE_A


def consumed(payload: EventPayload, episode: uuid.UUID, day: int) -> ConsumedEvent:
    envelope = new_envelope(
        payload,
        service=payload.event_type.split(".")[2],
        subject=str(episode),
        stream_version=day,
        time=START + timedelta(days=day),
        correlation_id=uuid.uuid4(),
    )
    return ConsumedEvent(envelope, payload)


def scheduled(number: int, day: int) -> pathway.EvaluationScheduled:
    return pathway.EvaluationScheduled(timer_id=uuid.uuid4(), evaluation_number=number, due_at=START + timedelta(day))


async def test_the_overview_merges_a_batch_as_its_events_one_at_a_time_would(pools):
    _, pool = pools
    new, known = uuid.uuid4(), uuid.uuid4()
    erased = intake.PatientDataErased(patient_id=uuid.uuid4(), erased_at=START)
    direct = intake.sample_referral(PRACTICE_B, referrer_agb=None, route="direct_access")
    batches = [
        [consumed(intake.sample_referral(PRACTICE_A), known, 1), consumed(scheduled(2, 30), known, 2)],
        [
            consumed(scheduled(2, 40), new, 3),
            consumed(intake.sample_referral(PRACTICE_A), new, 4),
            consumed(scheduled(1, 50), new, 5),  # a lower number: only the last event changes
            consumed(erased, known, 6),  # leaves the last event as it was
            consumed(direct, known, 7),  # a second referral replaces the first, its empty verwijzer too
            consumed(scheduled(1, 60), known, 8),
        ],
    ]
    async with pool.acquire() as conn:
        for events in batches:
            async with conn.transaction():
                await OVERVIEW.handle(events, UnitOfWork(conn, EventStore("reporting", REGISTRY), ManualClock(START)))
        rows = {r["episode_id"]: dict(r) for r in await conn.fetch("SELECT * FROM episode_overview")}
    scheduled_type = pathway.EvaluationScheduled.event_type
    assert rows[new] == {
        "episode_id": new,
        "practice_agb": PRACTICE_A,
        "referrer_agb": "01234567",
        "route": "gp_referral",
        "referred_on": date(2026, 11, 20),
        "next_evaluation_due": START + timedelta(40),
        "evaluations_scheduled": 2,
        "last_event_type": scheduled_type,
        "last_event_at": START + timedelta(days=5),
        "personal_data_erased": False,
    }
    assert rows[known] == {
        "episode_id": known,
        "practice_agb": PRACTICE_B,
        "referrer_agb": None,
        "route": "direct_access",
        "referred_on": date(2026, 11, 20),
        "next_evaluation_due": START + timedelta(30),
        "evaluations_scheduled": 2,
        "last_event_type": scheduled_type,
        "last_event_at": START + timedelta(days=8),
        "personal_data_erased": True,
    }
    erased_only = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await OVERVIEW.handle(
            [consumed(erased, erased_only, 9), consumed(intake.sample_referral(), erased_only, 10)],
            UnitOfWork(conn, EventStore("reporting", REGISTRY), ManualClock(START)),
        )
        row = await conn.fetchrow("SELECT * FROM episode_overview WHERE episode_id = $1", erased_only)
    assert row["last_event_type"] == intake.PatientDataErased.event_type and row["practice_agb"] == "04123456"
    assert row["personal_data_erased"] and row["last_event_at"] == START + timedelta(days=9)
