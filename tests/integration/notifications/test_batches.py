"""Batches through the consumer: the same copies, holds, deliveries, lanes and escalations as the same records
one at a time, and a fixed number of statements per batch when every event can go out at once."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from services.notifications.domain.filters import Party
from services.notifications.domain.ordering import ESCALATION_PRIORITY, plan
from services.notifications.store import lanes as lane_store
from shared.clock import ManualClock
from shared.consumer.idempotent import Outcome
from shared.events import Envelope
from shared.events.intake import PatientDataErased, ReferralReceived, sample_referral
from shared.events.pathway import EscalatedToReferrer, EvaluationScheduled
from tests.integration.notifications.conftest import (
    REFERRER,
    Feed,
    escalation,
    evaluation,
    fast_settings,
    subscribe,
)
from tests.support import LoggedPool

pytestmark = pytest.mark.integration

REFERRAL, EVALUATION = ReferralReceived.event_type, EvaluationScheduled.event_type
ESCALATION, ERASED = EscalatedToReferrer.event_type, PatientDataErased.event_type
ALL = [REFERRAL, EVALUATION, ESCALATION, ERASED]
PRACTICE, OTHER_PRACTICE = "04111111", "04222222"
_TABLES = ("pg_advisory", "received_events", "episode_parties", "subscriptions", "deliveries", "escalations")


async def subscribe_some(pool: asyncpg.Pool) -> None:
    """Subscriptions that want some of the events: of the practice, of the other practice, of the verwijzer,
    and one of a practice that has no episodes here."""
    await subscribe(pool, "his-a", "http://127.0.0.1:1/a", ALL, Party.PRACTICE, PRACTICE)
    await subscribe(pool, "his-b", "http://127.0.0.1:1/b", [EVALUATION], Party.PRACTICE, OTHER_PRACTICE)
    await subscribe(pool, "gp-r", "http://127.0.0.1:1/r", [REFERRAL, ESCALATION], Party.REFERRER, REFERRER)
    await subscribe(pool, "his-z", "http://127.0.0.1:1/z", ALL, Party.PRACTICE, "04999999")


async def outcome_of_everything(pool: asyncpg.Pool, clock: ManualClock) -> dict[str, list[tuple]]:
    """What notifications made of the events, with every lane numbered as its dispatcher would send it."""
    async with pool.acquire() as conn:
        for sub in await conn.fetch("SELECT subscription_id FROM subscriptions"):
            async with conn.transaction():
                window = await lane_store.pending_window(conn, sub["subscription_id"], 10_000)
                await lane_store.number_and_load(conn, sub["subscription_id"], plan(window, clock.now(), 10_000))
        lanes = await conn.fetch(
            "SELECT s.subscriber, d.sequence, d.event_id, d.event_type, d.subject, d.priority, d.causation_id,"
            " d.occurred_at, d.next_attempt_at, d.created_at FROM deliveries d JOIN subscriptions s"
            " USING (subscription_id) ORDER BY s.subscriber, d.sequence"
        )
        kept = await conn.fetch(
            "SELECT event_id, source, event_type, subject, occurred_at, causation_id, body, received_at, held_for,"
            " hold_until, fanned_out_at FROM received_events ORDER BY position"
        )
        escalations = await conn.fetch(
            "SELECT subscriber, event_id, episode_id, details, raised_at FROM escalations ORDER BY subscriber, event_id"
        )
        parties = await conn.fetch("SELECT * FROM episode_parties ORDER BY episode_id")
        inbox = await conn.fetch("SELECT event_id FROM inbox WHERE consumer = 'notifications' ORDER BY event_id")
    return {
        name: [tuple(r) for r in rows]
        for name, rows in [
            ("lanes", lanes),
            ("kept", kept),
            ("escalations", escalations),
            ("parties", parties),
            ("inbox", inbox),
        ]
    }


def handler_statements(pool: LoggedPool) -> list[str]:
    return [s for s in pool.statements if any(table in s for table in _TABLES)]


async def fed_both_ways(
    pool: asyncpg.Pool, other_pool: asyncpg.Pool, clock: ManualClock, before: list[Envelope], batch: list[Envelope]
) -> tuple[list[Outcome], dict[str, list[tuple]]]:
    """`before` one at a time into both schemas, then `batch` as one batch into the first and one record at a
    time into the second; both must end up the same. Returns the batch's outcomes and what it made."""
    together, alone = Feed(pool, clock, fast_settings()), Feed(other_pool, clock, fast_settings())
    for feed in (together, alone):
        await subscribe_some(feed.pool.pool)
        for envelope in before:
            await feed(envelope)
    together.pool.reset()
    outcomes = await together.batch(batch)
    assert together.pool.acquired == 1  # one transaction: the batch did not fall back to one event at a time
    assert [await alone.consumer.process(alone.record(e)) for e in batch] == outcomes
    made = await outcome_of_everything(pool, clock)
    assert made == await outcome_of_everything(other_pool, clock)
    return outcomes, made


def lane(made: dict[str, list[tuple]], subscriber: str) -> list[tuple[int, str, str, int]]:
    """(sequence, event type, episode, priority) of a subscriber's deliveries, in the order they are sent."""
    return [(r[1], r[3], r[4], r[5]) for r in made["lanes"] if r[0] == subscriber]


async def test_a_batch_of_several_episodes_goes_out_at_once_as_if_fed_one_by_one(pool, other_pool, clock):
    feed = Feed(pool, clock, fast_settings())
    e1, e2, e3 = "episode-1", "episode-2", "episode-3"
    r1 = feed.envelope(sample_referral(PRACTICE, referrer_agb=REFERRER), e1)
    r2 = feed.envelope(sample_referral(PRACTICE, referrer_agb=None, route="direct_access"), e2)
    r3 = feed.envelope(sample_referral(OTHER_PRACTICE, referrer_agb=REFERRER), e3)
    s1 = feed.envelope(evaluation(1), e1, cause=r1)
    s3 = feed.envelope(evaluation(1), e3, cause=r3)
    x1 = feed.envelope(escalation(), e1, version=2, cause=s1)
    s2 = feed.envelope(evaluation(1), e2, cause=r2)
    x3 = feed.envelope(escalation(), e3, version=2, cause=s3)

    outcomes, made = await fed_both_ways(pool, other_pool, clock, [], [r1, r2, s1, r3, s3, x1, s2, x3])

    assert outcomes == [Outcome.HANDLED] * 8
    assert [r[10] for r in made["kept"]] == [clock.now()] * 8  # every one fanned out, none held
    assert lane(made, "his-a") == [
        (1, REFERRAL, e1, 0),  # the episode with an escalation goes ahead of the others
        (2, EVALUATION, e1, 0),
        (3, ESCALATION, e1, ESCALATION_PRIORITY),
        (4, REFERRAL, e2, 0),
        (5, EVALUATION, e2, 0),
    ]
    assert lane(made, "his-b") == [(1, EVALUATION, e3, 0)]
    assert lane(made, "gp-r") == [
        (1, REFERRAL, e1, 0),
        (2, REFERRAL, e3, 0),
        (3, ESCALATION, e1, ESCALATION_PRIORITY),
        (4, ESCALATION, e3, ESCALATION_PRIORITY),
    ]
    assert lane(made, "his-z") == []
    assert [(r[0], r[1]) for r in made["escalations"]] == sorted([("gp-r", x1.id), ("gp-r", x3.id)])


async def test_a_pathway_event_before_its_intake_cause_in_the_same_batch_follows_it(pool, other_pool, clock):
    feed = Feed(pool, clock, fast_settings())
    e1, e2, e3 = "episode-1", "episode-2", "episode-3"
    r1 = feed.envelope(sample_referral(PRACTICE), e1)
    erased = feed.envelope(PatientDataErased(patient_id=uuid.uuid4(), erased_at=clock.now()), e1, version=2)
    second = feed.envelope(evaluation(2), e1, version=2, cause=erased)
    third = feed.envelope(escalation(), e1, version=3)  # no cause of its own, but behind `second`
    r2 = feed.envelope(sample_referral(PRACTICE, referrer_agb=REFERRER), e2)
    s2 = feed.envelope(evaluation(1), e2, cause=r2)
    r3 = feed.envelope(sample_referral(PRACTICE), e3)
    s3 = feed.envelope(evaluation(1), e3, cause=r3)  # before its episode's referral: no parties yet
    batch = [second, r2, s3, third, s2, erased, r3, feed.envelope(evaluation(2), e2, version=2, cause=s2)]

    outcomes, made = await fed_both_ways(pool, other_pool, clock, [r1], batch)

    assert outcomes == [Outcome.HANDLED] * 8
    assert all(r[10] is not None for r in made["kept"])  # all out by the end of the batch
    his_a = lane(made, "his-a")
    assert [t for _, t, e, _ in his_a if e == e1] == [REFERRAL, ERASED, EVALUATION, ESCALATION]
    assert [t for _, t, e, _ in his_a if e == e2] == [REFERRAL, EVALUATION, EVALUATION]
    assert [t for _, t, e, _ in his_a if e == e3] == [REFERRAL, EVALUATION]
    assert [s for s, *_ in his_a] == list(range(1, 10))


async def test_events_held_before_the_batch_are_released_by_it_in_order(pool, other_pool, clock):
    feed = Feed(pool, clock, fast_settings())
    e1, e2 = "episode-1", "episode-2"
    r1 = feed.envelope(sample_referral(PRACTICE), e1)
    s1 = feed.envelope(evaluation(1), e1, cause=r1)
    x1 = feed.envelope(escalation(), e1, version=2, cause=s1)
    r2 = feed.envelope(sample_referral(PRACTICE), e2)
    erased = feed.envelope(PatientDataErased(patient_id=uuid.uuid4(), erased_at=clock.now()), e2, version=2)
    waiting = feed.envelope(evaluation(2), e2, version=2, cause=erased)
    first, third = feed.envelope(evaluation(1), e2, cause=r2), feed.envelope(evaluation(3), e2, version=3)
    before = [s1, r2, waiting]  # s1 waits for its parties, `waiting` for its cause

    outcomes, made = await fed_both_ways(pool, other_pool, clock, before, [first, r1, x1, erased, third])

    assert outcomes == [Outcome.HANDLED] * 5
    assert all(r[10] is not None for r in made["kept"])
    his_a = [(r[2], r[4]) for r in made["lanes"] if r[0] == "his-a"]
    assert [event for event, episode in his_a if episode == e1] == [r1.id, s1.id, x1.id]  # s1 follows its cause
    # `first` arrived after `waiting` but is earlier in the pathway's stream (version 1, `waiting` 2), so it goes
    # first; `waiting` goes right after its cause
    assert [event for event, episode in his_a if episode == e2] == [r2.id, first.id, erased.id, waiting.id, third.id]


async def test_a_duplicate_in_the_batch_and_one_handled_before_change_nothing(pool, other_pool, clock):
    feed = Feed(pool, clock, fast_settings())
    r1 = feed.envelope(sample_referral(PRACTICE, referrer_agb=REFERRER), "episode-1")
    s1 = feed.envelope(evaluation(1), "episode-1", cause=r1)
    r2 = feed.envelope(sample_referral(PRACTICE), "episode-2")
    x1 = feed.envelope(escalation(), "episode-1", version=2, cause=s1)

    outcomes, made = await fed_both_ways(pool, other_pool, clock, [r1, s1], [s1, r2, x1, r2, x1, r1])

    duplicate, handled = Outcome.DUPLICATE, Outcome.HANDLED
    assert outcomes == [duplicate, handled, handled, duplicate, duplicate, duplicate]
    assert [r[0] for r in made["kept"]] == [r1.id, s1.id, r2.id, x1.id]
    assert [(t, e) for _, t, e, _ in lane(made, "his-a")] == [
        (REFERRAL, "episode-1"),
        (EVALUATION, "episode-1"),
        (ESCALATION, "episode-1"),
        (REFERRAL, "episode-2"),
    ]
    assert [(r[0], r[1]) for r in made["escalations"]] == [("gp-r", x1.id)]


def episode_events(feed: Feed, episode: str, practice: str) -> list[Envelope]:
    """A referral and six events that follow from it, each caused by the one before."""
    chain = [feed.envelope(sample_referral(practice, referrer_agb=REFERRER), episode)]
    for number in range(1, 6):
        chain.append(feed.envelope(evaluation(number), episode, version=number, cause=chain[-1]))
    chain.append(feed.envelope(escalation(), episode, version=6, cause=chain[-1]))
    return chain


@pytest.mark.parametrize("episodes", [1, 4, 25])
async def test_a_batch_that_goes_out_at_once_takes_the_same_few_statements_whatever_its_size(pool, clock, episodes):
    feed = Feed(pool, clock, fast_settings())
    await subscribe_some(pool)
    chains = [episode_events(feed, f"episode-{n}", (PRACTICE, OTHER_PRACTICE)[n % 2]) for n in range(episodes)]
    batch = [event for step in zip(*chains, strict=True) for event in step]  # episodes interleaved

    feed.pool.reset()
    assert await feed.batch(batch) == [Outcome.HANDLED] * len(batch)

    assert feed.pool.acquired == 1
    statements = handler_statements(feed.pool)
    assert [s.split(" (")[0].split(" FROM")[0] for s in statements] == [
        "SELECT pg_advisory_xact_lock(k)",  # every episode's lock
        "SELECT coalesce((SELECT true",  # what is known of every event
        "INSERT INTO episode_parties",
        "INSERT INTO received_events",
        "SELECT subscription_id, subscriber, event_types, filter_party, filter_agb",
        "INSERT INTO deliveries",
        "INSERT INTO escalations",
    ]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM received_events WHERE fanned_out_at IS NULL") == 0
        assert await conn.fetchval("SELECT count(*) FROM deliveries") == sum(
            7 + 2 if n % 2 == 0 else 5 + 2
            for n in range(episodes)  # practice or other practice, and the verwijzer
        )
