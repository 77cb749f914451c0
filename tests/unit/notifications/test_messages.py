"""What goes over the wire parses with the CloudEvents SDK and verifies with the standardwebhooks library."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notifications.domain.endpoints import check_endpoint_url
from services.notifications.domain.messages import ContentMode, render, signed, signing_secrets
from services.notifications.store.subscriptions import new_secret
from shared.events import new_envelope
from shared.events.intake import sample_referral

ENVELOPE = new_envelope(
    sample_referral(),
    service="intake",
    subject="episode-1",
    stream_version=1,
    time=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    correlation_id=uuid.uuid4(),
    causation_id=uuid.uuid4(),
)


@pytest.mark.parametrize("mode", list(ContentMode))
def test_both_content_modes_parse_back_to_the_same_event_with_its_sequence(mode: ContentMode):
    now = datetime.now(UTC)  # receivers check the signature time against real time
    secret = new_secret()
    message = signed(render(ENVELOPE, 42, mode), "delivery-1", now, [secret])
    Webhook(secret).verify(message.body, message.headers)
    event = from_http_event(message)
    assert event.get_id() == str(ENVELOPE.id) and event.get_type() == ENVELOPE.type
    assert event.get_subject() == "episode-1" and event.get_data() == ENVELOPE.data
    assert int(event.get_extension("deliverysequence")) == 42
    assert event.get_extension("causationid") == str(ENVELOPE.causationid)
    assert message.headers["ruggengraat-sequence"] == "42"
    assert ("ce-id" in message.headers) is (mode is ContentMode.BINARY)


def test_a_tampered_body_fails_verification():
    now = datetime.now(UTC)  # receivers check the signature time against real time
    secret = new_secret()
    message = signed(render(ENVELOPE, 1, ContentMode.STRUCTURED), "delivery-1", now, [secret])
    tampered = message.body.replace(b"04123456", b"04999999")
    assert tampered != message.body
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, message.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(message.body, message.headers)


def test_during_a_rotation_both_the_old_and_the_new_secret_verify_and_afterwards_only_the_new():
    now = datetime.now(UTC)  # receivers check the signature time against real time
    old, new = new_secret(), new_secret()
    until = now + timedelta(hours=1)
    during = signed(render(ENVELOPE, 1, ContentMode.STRUCTURED), "d", now, signing_secrets(new, old, until, now))
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    after = signed(render(ENVELOPE, 1, ContentMode.STRUCTURED), "d", now, signing_secrets(new, old, until, until))
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


def test_the_signature_timestamp_is_the_sending_time():
    now = datetime.now(UTC)  # receivers check the signature time against real time
    message = signed(HTTPMessage({}, b"{}"), "d", now, [new_secret()])
    assert message.headers["webhook-timestamp"] == str(int(now.timestamp()))


@pytest.mark.parametrize(
    ("url", "refused_because"),
    [
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://0.0.0.0/hook", "private"),
        ("https://user:pw@his.example.nl/hook", "credentials"),
        ("https://intranet/hook", "fully qualified"),
        ("http://api.localhost/hook", "development"),
        ("https://his.example.nl:notaport/hook", "http(s)"),
    ],
)
def test_endpoints_that_reach_inside_are_refused(url: str, refused_because: str):
    reason = check_endpoint_url(url, allow_loopback=False)
    assert reason is not None and refused_because in reason
