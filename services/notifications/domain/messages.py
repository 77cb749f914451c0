"""What goes over the wire: the CloudEvent in structured or binary HTTP mode, signed per Standard Webhooks.

The per-subscription sequence travels twice: as the CloudEvent extension `deliverysequence` (in structured
mode inside the signed body) and as the `ruggengraat-sequence` header, so a receiver sees gaps at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, to_binary_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks.webhooks import Webhook

from shared.events.envelope import Envelope

SEQUENCE_EXTENSION = "deliverysequence"
SEQUENCE_HEADER = "ruggengraat-sequence"


class ContentMode(StrEnum):
    STRUCTURED = "structured"  # the whole CloudEvent as JSON in the body (application/cloudevents+json)
    BINARY = "binary"  # attributes as ce-* headers, the data alone in the body


def attributes_of(envelope: Envelope, sequence: int) -> dict[str, Any]:
    attributes = envelope.model_dump(mode="json", exclude_none=True, exclude={"data", "time"})
    attributes["time"] = envelope.time
    attributes[SEQUENCE_EXTENSION] = sequence
    return attributes


def cloud_event(envelope: Envelope, sequence: int) -> CloudEvent:
    return CloudEvent(attributes=attributes_of(envelope, sequence), data=envelope.data)


def render(envelope: Envelope, sequence: int, mode: ContentMode) -> HTTPMessage:
    event = cloud_event(envelope, sequence)
    message = to_binary_event(event) if mode is ContentMode.BINARY else to_structured_event(event)
    return HTTPMessage(headers={**message.headers, SEQUENCE_HEADER: str(sequence)}, body=message.body)


def signature(webhook_id: str, sent_at: datetime, body: bytes, secrets: Sequence[str]) -> str:
    """`v1,<sig>` per secret, space separated: during a rotation both the new and the old secret sign."""
    text = body.decode()
    return " ".join(Webhook(secret).sign(webhook_id, sent_at, text) for secret in secrets)


def signed(message: HTTPMessage, webhook_id: str, sent_at: datetime, secrets: Sequence[str]) -> HTTPMessage:
    headers = {
        **message.headers,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature(webhook_id, sent_at, message.body, secrets),
    }
    return HTTPMessage(headers=headers, body=message.body)


def signing_secrets(current: str, previous: str | None, previous_until: datetime | None, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one while its overlap lasts."""
    if previous is not None and previous_until is not None and now < previous_until:
        return [current, previous]
    return [current]
