"""Webhooks end to end: referrals posted to intake reach a real receiver process, which verifies every
request with the standardwebhooks library and parses it with the CloudEvents SDK."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from deploy.local import LocalSystem, dev_headers
from deploy.receiver import ReceiverProcess
from shared.db import create_pool
from shared.events import REGISTRY
from shared.events.pathway import EscalatedToReferrer, EscalationReason
from shared.store.event_store import EventStore
from tests.conftest import eventually
from tests.support import patient, practice

pytestmark = pytest.mark.e2e

REFERRAL = "nl.ruggengraat.intake.ReferralReceived"
EVALUATION = "nl.ruggengraat.pathway.EvaluationScheduled"
ESCALATION = "nl.ruggengraat.pathway.EscalatedToReferrer"


def subscriber(name: str, scope: str) -> dict[str, str]:
    return dev_headers("subscriber", name, scope=scope)


async def subscribe(
    system: LocalSystem, receiver: ReceiverProcess, hook: str, who: str, scope: str, types: list[str], **extra
) -> dict:
    async with httpx.AsyncClient() as client:
        created = await client.post(
            f"{system.url('notifications')}/v1/subscriptions",
            json={"endpoint_url": receiver.url(hook), "event_types": types, **extra},
            headers=subscriber(who, scope),
        )
    assert created.status_code == 201, created.text
    return created.json()


async def refer(system: LocalSystem, agb: str, n: int, referrer_agb: str = "01234567") -> str:
    body = {
        "referral_id": f"HIS-{uuid.uuid4().hex[:12]}",
        "route": "gp_referral",
        "practice_agb": agb,
        "referrer_agb": referrer_agb,
        "referred_on": "2026-11-20",
        "symptom_onset": "2026-11-02",
        "patient": patient(n),
        "request_for_help": "Weer kunnen fietsen",
        "reason": "Aspecifieke lage rugpijn",
    }
    async with httpx.AsyncClient() as client:
        posted = await client.post(f"{system.url('intake')}/v1/referrals", json=body, headers=practice(agb))
    assert posted.status_code == 201, posted.text
    return posted.json()["episode_id"]


async def received(receiver: ReceiverProcess, hook: str, count: int, timeout: float = 40) -> list[dict]:
    async def probe():
        got = await asyncio.to_thread(receiver.received, hook)
        return got["events"] if len(got["events"]) >= count else None

    return await eventually(probe, timeout=timeout)


async def api(system: LocalSystem, method: str, path: str, headers: dict[str, str], **kwargs) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.request(method, f"{system.url('notifications')}{path}", headers=headers, **kwargs)


async def test_a_receiver_failing_three_times_gets_the_event_once_with_four_attempts_recorded(system, receiver, agb):
    who, scope = f"his-{agb}", f"practice:{agb}"
    sub = await subscribe(system, receiver, "a", who, scope, [REFERRAL])
    receiver.configure("a", secret=sub["secret"], fail_next=3)
    episode = await refer(system, agb, 1)

    [event] = await received(receiver, "a", 1)
    assert (event["type"], event["subject"], event["sequence"]) == (REFERRAL, episode, 1)
    path = f"/v1/subscriptions/{sub['subscription_id']}/deliveries"
    [delivery] = (await api(system, "GET", path, subscriber(who, scope))).json()
    assert delivery["status"] == "delivered" and delivery["attempts"] == 4
    detail = (await api(system, "GET", f"{path}/{delivery['delivery_id']}", subscriber(who, scope))).json()
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 500, 204]
    assert [a["error"] for a in detail["attempt_log"]] == ["HTTP 500"] * 3 + [None]
    assert all(a["latency_ms"] > 0 for a in detail["attempt_log"])
    assert receiver.received("a")["attempts"] == 4 and receiver.received("a")["rejected"] == 0


async def test_what_happens_while_the_receiver_is_down_arrives_after_it_returns_in_order(system, receiver, agb):
    who, scope = f"his-{agb}", f"practice:{agb}"
    sub = await subscribe(system, receiver, "a", who, scope, [REFERRAL, EVALUATION])
    receiver.stop()
    episodes = [await refer(system, agb, n) for n in range(4)]
    path = f"/v1/subscriptions/{sub['subscription_id']}/deliveries"

    async def failing():
        rows = (await api(system, "GET", path, subscriber(who, scope))).json()
        return len(rows) == 8 and rows[0]["attempts"] >= 2 and rows[0]["last_error"]

    await eventually(failing)
    await asyncio.sleep(1.0)  # down for a while: attempts keep failing, the breaker parks and probes
    receiver.start()
    receiver.configure("a", secret=sub["secret"])
    events = await received(receiver, "a", 8)

    assert [e["sequence"] for e in events] == list(range(1, 9))  # gapless, in the order they arrived
    for episode in episodes:
        assert [e["type"] for e in events if e["subject"] == episode] == [REFERRAL, EVALUATION]
    assert len({e["id"] for e in events}) == 8


async def test_a_410_answer_deactivates_the_subscription_until_it_is_resumed(system, receiver, agb):
    who, scope = f"his-{agb}", f"practice:{agb}"
    sub = await subscribe(system, receiver, "a", who, scope, [REFERRAL])
    receiver.configure("a", secret=sub["secret"], fail_next=1, fail_status=410)
    episode = await refer(system, agb, 1)
    path = f"/v1/subscriptions/{sub['subscription_id']}"

    async def gone():
        view = (await api(system, "GET", path, subscriber(who, scope))).json()
        return view if view["state"] == "gone" else None

    view = await eventually(gone)
    assert view["active"] is False and "410" in view["state_reason"]
    await refer(system, agb, 2)  # a deactivated subscription gets nothing new
    await asyncio.sleep(1.0)
    assert receiver.received("a")["attempts"] == 1

    resumed = await api(system, "POST", f"{path}/resume", subscriber(who, scope))
    assert resumed.json()["state"] == "active"
    [event] = await received(receiver, "a", 1)
    assert event["subject"] == episode and event["sequence"] == 1


async def test_catch_up_since_a_sequence_returns_exactly_the_missing_events(system, receiver, agb):
    who, scope = f"his-{agb}", f"practice:{agb}"
    sub = await subscribe(system, receiver, "a", who, scope, [REFERRAL, EVALUATION])
    receiver.configure("a", secret=sub["secret"])
    for n in range(3):
        await refer(system, agb, n)
    events = await received(receiver, "a", 6)
    base = f"/v1/subscriptions/{sub['subscription_id']}"

    page = (await api(system, "GET", f"{base}/events?since_sequence=4", subscriber(who, scope))).json()
    assert [(i["sequence"], i["event"]["id"]) for i in page["events"]] == [(e["sequence"], e["id"]) for e in events[4:]]
    first = (await api(system, "GET", f"{base}/events?since_sequence=0&limit=2", subscriber(who, scope))).json()
    assert [i["sequence"] for i in first["events"]] == [1, 2] and first["next_since_sequence"] == 2
    since = datetime.fromisoformat(events[5]["time"]).astimezone(UTC).isoformat()
    by_time = (await api(system, "GET", f"{base}/events", subscriber(who, scope), params={"since_time": since})).json()
    assert events[5]["id"] in [i["event"]["id"] for i in by_time["events"]]

    before = len(receiver.attempts("a"))
    replayed = await api(system, "POST", f"{base}/replay", subscriber(who, scope), json={"since_sequence": 3})
    assert replayed.status_code == 202 and replayed.json()["sequences"] == [4, 5, 6]

    async def redelivered():
        attempts = await asyncio.to_thread(receiver.attempts, "a")
        return attempts[before:] if len(attempts) >= before + 3 else None

    again = await eventually(redelivered)
    assert [a["sequence"] for a in again] == [4, 5, 6] and all(a["status"] == 204 for a in again)
    assert len(receiver.received("a")["events"]) == 6  # the receiver's store keeps each event once


async def test_a_subscriber_cannot_see_or_change_another_subscribers_subscription(system, receiver, agb):
    scope = f"practice:{agb}"
    sub = await subscribe(system, receiver, "a", f"his-{agb}", scope, [REFERRAL])
    receiver.configure("a", secret=sub["secret"])
    await refer(system, agb, 1)
    await received(receiver, "a", 1)
    base = f"/v1/subscriptions/{sub['subscription_id']}"
    owner = subscriber(f"his-{agb}", scope)
    [delivery] = (await api(system, "GET", f"{base}/deliveries", owner)).json()

    intruder = subscriber(f"other-{agb}", scope)  # even with the same scope
    for method, path, body in [
        ("GET", base, None),
        ("GET", f"{base}/deliveries", None),
        ("GET", f"{base}/deliveries/{delivery['delivery_id']}", None),
        ("GET", f"{base}/events", None),
        ("POST", f"{base}/replay", {"since_sequence": 0}),
        ("GET", f"{base}/dead-letters", None),
        ("POST", f"{base}/dead-letters/redrive", {}),
        ("POST", f"{base}/pause", None),
        ("POST", f"{base}/secret/rotate", {}),
        ("DELETE", base, None),
    ]:
        answer = await api(system, method, path, intruder, json=body)
        assert answer.status_code == 404, (method, path, answer.status_code)
        assert (await api(system, method, path, practice(agb), json=body)).status_code == 403
    assert (await api(system, "GET", "/v1/subscriptions", intruder)).json() == []
    assert (await api(system, "GET", base, owner)).json()["state"] == "active"

    outside = await api(
        system,
        "POST",
        "/v1/subscriptions",
        owner,
        json={
            "endpoint_url": receiver.url("x"),
            "event_types": [REFERRAL],
            "filter": {"party": "practice", "agb": "04000000"},
        },
    )
    assert outside.status_code == 403 and outside.headers["content-type"] == "application/problem+json"
    unscoped = await api(
        system,
        "POST",
        "/v1/subscriptions",
        dev_headers("subscriber", "x"),
        json={"endpoint_url": receiver.url("x"), "event_types": [REFERRAL]},
    )
    assert unscoped.status_code == 403


async def test_a_tampered_body_fails_verification_at_the_receiver(system, receiver, agb):
    who, scope = f"his-{agb}", f"practice:{agb}"
    sub = await subscribe(system, receiver, "a", who, scope, [REFERRAL], content_mode="binary")
    receiver.configure("a", secret=sub["secret"])
    await refer(system, agb, 1)
    [event] = await received(receiver, "a", 1)
    assert event["mode"] == "binary"
    [genuine] = receiver.attempts("a")
    headers, body = genuine["request"]["headers"], genuine["request"]["body"].encode()

    tampered = body.replace(agb.encode(), b"04000000")
    assert tampered != body
    assert receiver.post("a", headers, tampered) == 401
    assert receiver.received("a")["rejected"] == 1
    assert receiver.post("a", headers, body) == 204  # the genuine request still verifies; kept once
    assert len(receiver.received("a")["events"]) == 1


async def test_after_a_secret_rotation_both_secrets_verify_until_the_overlap_ends(system, receiver, agb):
    who, scope = f"his-{agb}", f"practice:{agb}"
    sub = await subscribe(system, receiver, "a", who, scope, [REFERRAL])
    receiver.configure("a", secret=sub["secret"])
    path = f"/v1/subscriptions/{sub['subscription_id']}/secret/rotate"
    rotated = (await api(system, "POST", path, subscriber(who, scope), json={"overlap_seconds": 3600})).json()
    await refer(system, agb, 1)
    await received(receiver, "a", 1)  # verified with the old secret
    receiver.configure("a", secret=rotated["secret"])
    await refer(system, agb, 2)
    await received(receiver, "a", 2)  # and with the new one

    ended = (await api(system, "POST", path, subscriber(who, scope), json={"overlap_seconds": 0})).json()
    receiver.configure("a", secret=rotated["secret"])  # the receiver missed this rotation
    await refer(system, agb, 3)
    await eventually(lambda: asyncio.to_thread(lambda: receiver.received("a")["rejected"] >= 1))
    receiver.configure("a", secret=ended["secret"])
    events = await received(receiver, "a", 3)
    assert [e["sequence"] for e in events] == [1, 2, 3]


async def append_escalation(database_url: str, episode: str, referrer_agb: str) -> uuid.UUID:
    """What pathway appends when the guideline says to contact the verwijzer (its relay publishes it)."""
    pool = await create_pool(database_url, "pathway", min_size=1, max_size=1)
    store = EventStore("pathway", REGISTRY)
    try:
        async with pool.acquire() as conn, conn.transaction():
            version = await store.stream_version(conn, episode)
            [stored] = await store.append(
                conn,
                episode,
                version,
                [
                    EscalatedToReferrer(
                        reason=EscalationReason.NO_PROGRESS_AFTER_THREE_WEEKS,
                        decision_code="evaluation.no_progress",
                        explanation_nl="Geen vooruitgang na drie weken",
                        explanation_en="No progress after three weeks",
                        guideline_section="II.III Evaluatie",
                        referrer_agb=referrer_agb,
                    )
                ],
                time=datetime.now(UTC),
                correlation_id=uuid.uuid4(),
            )
    finally:
        await pool.close()
    return stored.event_id


async def test_an_escalation_goes_ahead_of_other_traffic_and_stays_open_until_acknowledged(
    system, receiver, agb, module_database
):
    gp = f"01{agb[2:]}"
    who, scope = f"gp-{gp}", f"referrer:{gp}"
    sub = await subscribe(system, receiver, "gp", who, scope, [REFERRAL, EVALUATION, ESCALATION])
    receiver.configure("gp", secret=sub["secret"])
    base = f"/v1/subscriptions/{sub['subscription_id']}"
    assert (await api(system, "POST", f"{base}/pause", subscriber(who, scope))).json()["state"] == "paused"
    episodes = [await refer(system, agb, n, referrer_agb=gp) for n in range(3)]

    async def queued(n: int):
        rows = (await api(system, "GET", f"{base}/deliveries", subscriber(who, scope))).json()
        return rows if len(rows) == n else None

    await eventually(lambda: queued(6))
    escalation_id = await append_escalation(module_database, episodes[1], gp)
    await eventually(lambda: queued(7))
    assert (await api(system, "POST", f"{base}/resume", subscriber(who, scope))).json()["state"] == "active"

    events = await received(receiver, "gp", 7)
    assert [(e["subject"], e["type"]) for e in events[:3]] == [
        (episodes[1], REFERRAL),
        (episodes[1], EVALUATION),
        (episodes[1], ESCALATION),
    ]
    assert [e["sequence"] for e in events] == list(range(1, 8))

    [open_one] = (await api(system, "GET", "/v1/escalations", subscriber(who, scope))).json()
    assert open_one["event_id"] == str(escalation_id) and open_one["episode_id"] == episodes[1]
    assert open_one["details"]["reason"] == "no_progress_after_three_weeks"
    ack = f"/v1/escalations/{escalation_id}/acknowledge"
    assert (await api(system, "POST", ack, subscriber(f"gp-other-{gp}", scope))).status_code == 404
    done = await api(system, "POST", ack, subscriber(who, scope))
    assert done.status_code == 200 and done.json()["acknowledged_at"] is not None
    assert (await api(system, "GET", "/v1/escalations", subscriber(who, scope))).json() == []


async def test_notifications_killed_mid_delivery_loses_nothing_and_the_receiver_keeps_each_event_once(
    system, receiver, agb
):
    who, scope = f"his-{agb}", f"practice:{agb}"
    sub = await subscribe(system, receiver, "a", who, scope, [REFERRAL, EVALUATION])
    receiver.configure("a", secret=sub["secret"], delay_seconds=0.2)  # a slow receiver: requests in flight
    episodes = [await refer(system, agb, n) for n in range(8)]
    await received(receiver, "a", 3)

    system.services["notifications"].kill()  # SIGKILL, mid-delivery
    system.restart("notifications")
    events = await received(receiver, "a", 16, timeout=60)

    assert len({e["id"] for e in events}) == 16
    assert sorted(e["sequence"] for e in events) == list(range(1, 17))
    for episode in episodes:
        assert [e["type"] for e in events if e["subject"] == episode] == [REFERRAL, EVALUATION]
    sequences_sent = [a["sequence"] for a in receiver.attempts("a")]
    assert sorted(set(sequences_sent)) == list(range(1, 17))
