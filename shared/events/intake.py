"""Payloads of the events the intake service produces (topic `intake.events`)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.payload import EventPayload, event_type
from shared.events.topics import INTAKE_EVENTS

AgbCode = str  # the Dutch AGB register code of a care provider or practice: 8 digits


class IntakeEvent(EventPayload):
    topic: ClassVar[str] = INTAKE_EVENTS


class ReferralReceived(IntakeEvent):
    """A referral (verwijzing) from a GP or specialist, or a direct-access registration, opened an episode.

    The CloudEvent subject is the pseudonymous episode id; nothing here identifies the patient.
    """

    event_type: ClassVar[str] = event_type("intake", "ReferralReceived")
    event_version: ClassVar[int] = 1

    route: Literal["gp_referral", "specialist_referral", "direct_access"] = Field(
        description="How the patient came in: referred (verwezen) or direct access (directe toegang)."
    )
    practice_agb: AgbCode = Field(pattern=r"^\d{8}$", description="AGB code of the physiotherapy practice.")
    referrer_agb: AgbCode | None = Field(
        default=None, pattern=r"^\d{8}$", description="AGB code of the verwijzer; absent on direct access."
    )
    referred_on: date = Field(description="Date of the referral or registration.")
    symptom_onset: date | None = Field(default=None, description="Onset of this episode of low back pain, when known.")
