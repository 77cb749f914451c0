"""From consumed events to deliveries on real Postgres: filters, parties, holds, causal order, escalations."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.notifications.domain.filters import Party
from services.notifications.domain.ordering import ESCALATION_PRIORITY
from services.notifications.handlers import release_overdue
from services.notifications.store import NotificationsStore
from shared.events.intake import PatientDataErased, ReferralReceived, sample_referral
from shared.events.pathway import EscalatedToReferrer, EvaluationScheduled
from tests.integration.notifications.conftest import REFERRER, Feed, escalation, evaluation, fast_settings, subscribe

pytestmark = pytest.mark.integration

REFERRAL, EVALUATION = ReferralReceived.event_type, EvaluationScheduled.event_type
ESCALATION, ERASED = EscalatedToReferrer.event_type, PatientDataErased.event_type
ALL = [REFERRAL, EVALUATION, ESCALATION, ERASED]
PRACTICE, OTHER_PRACTICE = "04111111", "04222222"


async def deliveries_of(pool, subscription_id):
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_type, subject, priority FROM deliveries WHERE subscription_id = $1 ORDER BY position",
            subscription_id,
        )
    return [(r["event_type"], r["subject"], r["priority"]) for r in rows]


async def test_events_reach_only_the_subscriptions_whose_filter_covers_the_episode(pool, clock):
    feed = Feed(pool, clock, fast_settings())
    practice = await subscribe(pool, "his-a", "http://127.0.0.1:1/a", ALL, Party.PRACTICE, PRACTICE)
    referrer = await subscribe(pool, "gp-r", "http://127.0.0.1:1/r", [REFERRAL], Party.REFERRER, REFERRER)
    other = await subscribe(pool, "his-b", "http://127.0.0.1:1/b", ALL, Party.PRACTICE, OTHER_PRACTICE)
    mine, direct = "episode-mine", "episode-direct"
    await feed(feed.envelope(sample_referral(PRACTICE, referrer_agb=REFERRER), mine))
    await feed(feed.envelope(sample_referral(PRACTICE, referrer_agb=None, route="direct_access"), direct))
    await feed(feed.envelope(evaluation(), mine))

    assert await deliveries_of(pool, practice.subscription_id) == [
        (REFERRAL, mine, 0),
        (REFERRAL, direct, 0),
        (EVALUATION, mine, 0),
    ]
    assert await deliveries_of(pool, referrer.subscription_id) == [(REFERRAL, mine, 0)]
    assert await deliveries_of(pool, other.subscription_id) == []


async def test_a_pathway_event_that_overtakes_its_referral_waits_for_it_and_then_follows_it(pool, clock):
    feed = Feed(pool, clock, fast_settings())
    sub = await subscribe(pool, "his-a", "http://127.0.0.1:1/a", ALL, Party.PRACTICE, PRACTICE)
    referral = feed.envelope(sample_referral(PRACTICE), "episode-1")
    scheduled = feed.envelope(evaluation(), "episode-1", cause=referral)
    escalated = feed.envelope(escalation(), "episode-1", version=2, cause=scheduled)

    await feed(scheduled)
    await feed(escalated)
    assert await deliveries_of(pool, sub.subscription_id) == []  # nobody can know whose episode this is yet
    async with pool.acquire() as conn:
        held = await conn.fetch("SELECT held_for FROM received_events WHERE fanned_out_at IS NULL ORDER BY position")
    assert [r["held_for"] for r in held] == ["parties", "parties"]

    await feed(referral)
    assert [d[0] for d in await deliveries_of(pool, sub.subscription_id)] == [REFERRAL, EVALUATION, ESCALATION]


async def test_an_event_waits_for_its_cause_from_the_other_topic_and_later_ones_of_its_source_wait_too(pool, clock):
    feed = Feed(pool, clock, fast_settings())
    sub = await subscribe(pool, "his-a", "http://127.0.0.1:1/a", ALL, Party.PRACTICE, PRACTICE)
    referral = feed.envelope(sample_referral(PRACTICE), "episode-1")
    await feed(referral)
    erased = feed.envelope(PatientDataErased(patient_id=uuid.uuid4(), erased_at=clock.now()), "episode-1", version=2)
    second = feed.envelope(evaluation(2), "episode-1", version=2, cause=erased)
    third = feed.envelope(escalation(), "episode-1", version=3)

    await feed(second)  # its cause (an intake event) has not arrived yet
    await feed(third)  # no cause of its own, but it must not overtake `second`
    assert [d[0] for d in await deliveries_of(pool, sub.subscription_id)] == [REFERRAL]

    await feed(erased)
    assert [d[0] for d in await deliveries_of(pool, sub.subscription_id)] == [REFERRAL, ERASED, EVALUATION, ESCALATION]


async def test_held_events_of_one_source_go_out_in_their_stream_order_whatever_order_they_arrived_in(pool, clock):
    # After the broker came back empty, a later event of an episode reached notifications before its referral:
    # it waited for the parties, and the referral that brought them must still go first (it went after).
    feed = Feed(pool, clock, fast_settings())
    sub = await subscribe(pool, "his-a", "http://127.0.0.1:1/a", ALL, Party.PRACTICE, PRACTICE)
    referral = feed.envelope(sample_referral(PRACTICE), "episode-1")
    erased = feed.envelope(PatientDataErased(patient_id=uuid.uuid4(), erased_at=clock.now()), "episode-1", version=3)
    await feed(erased)
    assert await deliveries_of(pool, sub.subscription_id) == []
    await feed(referral)
    assert [d[0] for d in await deliveries_of(pool, sub.subscription_id)] == [REFERRAL, ERASED]


async def test_a_cause_that_never_arrives_holds_its_effect_only_until_the_deadline(pool, clock):
    settings = fast_settings(causal_hold_seconds=60)
    feed = Feed(pool, clock, settings)
    sub = await subscribe(pool, "his-a", "http://127.0.0.1:1/a", ALL, Party.PRACTICE, PRACTICE)
    await feed(feed.envelope(sample_referral(PRACTICE), "episode-1"))
    lost_cause = feed.envelope(sample_referral(PRACTICE), "episode-elsewhere")
    await feed(feed.envelope(evaluation(), "episode-1", cause=lost_cause))
    assert await release_overdue(NotificationsStore(pool), clock.now() + timedelta(seconds=59)) == 0
    assert [d[0] for d in await deliveries_of(pool, sub.subscription_id)] == [REFERRAL]

    assert await release_overdue(NotificationsStore(pool), clock.now() + timedelta(seconds=60)) == 1
    assert [d[0] for d in await deliveries_of(pool, sub.subscription_id)] == [REFERRAL, EVALUATION]


async def test_an_escalation_is_urgent_for_the_referrer_and_open_until_acknowledged(pool, clock):
    from services.notifications.store import escalations

    feed = Feed(pool, clock, fast_settings())
    gp = await subscribe(pool, "gp-r", "http://127.0.0.1:1/r", [REFERRAL, ESCALATION], Party.REFERRER, REFERRER)
    practice = await subscribe(pool, "his-a", "http://127.0.0.1:1/a", [ESCALATION], Party.PRACTICE, PRACTICE)
    referral = feed.envelope(sample_referral(PRACTICE, referrer_agb=REFERRER), "episode-1")
    await feed(referral)
    escalated = feed.envelope(escalation(), "episode-1", cause=referral)
    await feed(escalated)

    assert await deliveries_of(pool, gp.subscription_id) == [
        (REFERRAL, "episode-1", 0),
        (ESCALATION, "episode-1", ESCALATION_PRIORITY),
    ]
    async with pool.acquire() as conn:
        [open_one] = await escalations.open_for(conn, "gp-r")
        assert await escalations.open_for(conn, "his-a") == []  # the practice is told, but it is not the verwijzer
        assert open_one["event_id"] == escalated.id and open_one["episode_id"] == "episode-1"
        assert await escalations.acknowledge(conn, "his-a", escalated.id, "someone", clock.now()) is None
        done = await escalations.acknowledge(conn, "gp-r", escalated.id, "dr-gp", clock.now())
        assert done["acknowledged_by"] == "dr-gp"
        assert await escalations.open_for(conn, "gp-r") == []
    assert [d[0] for d in await deliveries_of(pool, practice.subscription_id)] == [ESCALATION]


async def test_a_redelivered_record_creates_nothing_twice(pool, clock):
    feed = Feed(pool, clock, fast_settings())
    sub = await subscribe(pool, "his-a", "http://127.0.0.1:1/a", ALL, Party.PRACTICE, PRACTICE)
    referral = feed.envelope(sample_referral(PRACTICE), "episode-1")
    await feed(referral)
    from shared.consumer.dead_letters import Record
    from shared.consumer.idempotent import Outcome

    again = Record("intake.events", 3, 99, b"episode-1", referral.to_json())
    assert await feed.consumer.process(again) is Outcome.DUPLICATE
    assert len(await deliveries_of(pool, sub.subscription_id)) == 1
