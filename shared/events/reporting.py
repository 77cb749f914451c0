"""Payloads of the events the reporting service produces (topic `reporting.events`)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.payload import EventPayload, event_type
from shared.events.topics import REPORTING_EVENTS

LetterKind = Literal["start", "interim", "final"]


class ReportingEvent(EventPayload):
    topic: ClassVar[str] = REPORTING_EVENTS


class ReportComposed(ReportingEvent):
    """A letter to the GP was composed (in Dutch, from the episode's events); it never changes afterwards."""

    event_type: ClassVar[str] = event_type("reporting", "ReportComposed")
    event_version: ClassVar[int] = 1

    letter_id: uuid.UUID
    kind: LetterKind = Field(description="start (after intake), interim (escalation), final (closing).")
    composed_on: date
    corrects: uuid.UUID | None = Field(default=None, description="The letter this one corrects, if any.")
    content_digest: str = Field(description="SHA-256 of the stored letter content: proves it never changed.")


class ReportSent(ReportingEvent):
    """The letter was made available to the verwijzer (their system fetches it, signed notification first)."""

    event_type: ClassVar[str] = event_type("reporting", "ReportSent")
    event_version: ClassVar[int] = 1

    letter_id: uuid.UUID
    sent_on: date
    to_agb: str | None = Field(default=None, pattern=r"^\d{8}$", description="The verwijzer's AGB code.")
