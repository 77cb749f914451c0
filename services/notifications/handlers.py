"""Notifications consumes every event type on the topics it reads and enqueues deliveries for it."""

from __future__ import annotations

from services.notifications.deliveries import enqueue
from shared.consumer.idempotent import Handler
from shared.events import REGISTRY
from shared.events.payload import EventPayload
from shared.events.topics import topics_consumed_by

HANDLERS: dict[type[EventPayload], Handler] = {
    model: enqueue for topic in topics_consumed_by("notifications") for model in REGISTRY.types_on(topic)
}
