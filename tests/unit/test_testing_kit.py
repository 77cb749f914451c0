"""The integrator's test kit without a running system: the webhook sink keeps what verifies (once), refuses a bad
signature, holds back deliveries it has no secret for, and awaits an event type per episode; a referral made by
the kit and turned into a FHIR ServiceRequest reads back as the same referral in intake."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from ruggengraat.testing import Ruggengraat, WebhookSink, as_service_request
from standardwebhooks.webhooks import Webhook

from services.intake.routes.fhir_referral import to_command

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
BELOOP = "nl.ruggengraat.pathway.BeloopClassified"


def notifications_answering(created: dict, secret: str) -> httpx.Client:
    """Stands in for notifications' POST /v1/subscriptions: keeps the request, answers with `secret`."""

    def answer(request: httpx.Request) -> httpx.Response:
        created.update(json.loads(request.content))
        return httpx.Response(201, json={"subscription_id": str(uuid.uuid4()), "secret": secret})

    return httpx.Client(base_url="http://notifications", transport=httpx.MockTransport(answer))


def signed(secret: str, episode: str, event_type: str = BELOOP) -> tuple[bytes, dict[str, str]]:
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/ruggengraat/pathway",
        "type": event_type,
        "subject": episode,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": {"beloop": "normaal"},
    }
    body = json.dumps(event).encode()
    webhook_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, now, body.decode()),
        "content-type": "application/cloudevents+json",
        "ruggengraat-sequence": "1",
    }
    return body, headers


def test_the_sink_keeps_verified_deliveries_once_refuses_bad_signatures_and_awaits_by_episode():
    sink = WebhookSink(listen="127.0.0.1:0")
    try:
        assert httpx.post(f"{sink.url}/hooks/unknown", content=b"{}").status_code == 503  # no secret yet: later
        created: dict = {}
        sink.subscribe(notifications_answering(created, SECRET), [BELOOP])
        endpoint = created["endpoint_url"]
        assert endpoint.startswith(sink.url) and created["event_types"] == [BELOOP]

        episode = str(uuid.uuid4())
        body, headers = signed(SECRET, episode)
        assert httpx.post(endpoint, content=body, headers=headers).status_code == 204
        assert httpx.post(endpoint, content=body, headers=headers).status_code == 204  # a re-send, kept once
        forged_body, forged = signed("whsec_" + base64.b64encode(b"x" * 32).decode(), episode)
        assert httpx.post(endpoint, content=forged_body, headers=forged).status_code == 401

        delivery = sink.await_event(episode, "BeloopClassified", timeout=1)
        assert delivery.type == BELOOP and delivery.subject == episode and delivery.data == {"beloop": "normaal"}
        assert delivery.sequence == 1 and len(sink.events_for(episode)) == 1
        assert len(sink.rejected) == 1
        with pytest.raises(AssertionError, match="no EscalatedToReferrer"):
            sink.await_event(episode, "EscalatedToReferrer", timeout=0.2)
    finally:
        sink.close()


def test_a_kit_referral_as_a_fhir_service_request_reads_back_as_the_same_referral():
    kit = Ruggengraat({}, "secret", practice_agb="04111111", referrer_agb="01222222")
    ours = kit.referral(patient={"name": "Johanna de Vries", "bsn": "999990019", "birth_date": "1968-04-12"})
    command = to_command(json.dumps(as_service_request(ours)).encode())
    assert command.referral_id == ours["referral_id"] and command.route == "gp_referral"
    assert (command.practice_agb, command.referrer_agb) == ("04111111", "01222222")
    assert command.referred_on.isoformat() == ours["referred_on"]
    assert command.patient.bsn == "999990019" and command.patient.name == "Johanna de Vries"
    assert (command.reason, command.request_for_help) == (ours["reason"], ours["request_for_help"])
    assert kit.referral()["patient"]["bsn"] != kit.referral()["patient"]["bsn"]  # a new patient each time
