"""Payloads of the events the intake service produces (topic `intake.events`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.payload import EventPayload, event_type
from shared.events.sealed import Sealed
from shared.events.topics import INTAKE_EVENTS

AgbCode = str  # the Dutch AGB register code of a care provider or practice: 8 digits


class IntakeEvent(EventPayload):
    topic: ClassVar[str] = INTAKE_EVENTS


class ReferralReceived(IntakeEvent):
    """A referral (verwijzing) from a GP or specialist, or a direct-access registration, opened an episode.

    The CloudEvent subject is the pseudonymous episode id. Who the patient is (name, BSN, date of birth,
    contact details) and the free text of the referral travel only sealed with the patient's key.
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
    patient_id: uuid.UUID = Field(description="The patient's pseudonym (keyed, not derivable from the BSN).")
    has_request_for_help: bool = Field(description="Whether the referral states the patient's hulpvraag.")
    has_reason: bool = Field(description="Whether the referral states the reason for referral.")
    personal: Sealed = Field(
        description="Sealed: the patient's name, BSN, date of birth and contact details, and the free text "
        "of the hulpvraag and the reason for referral."
    )


class PatientDataErased(IntakeEvent):
    """The patient's key was destroyed on their request (WGBO art. 7:455): every sealed copy of their
    personal data is unreadable from now on; every service drops what it derived from it."""

    event_type: ClassVar[str] = event_type("intake", "PatientDataErased")
    event_version: ClassVar[int] = 1

    patient_id: uuid.UUID
    erased_at: datetime


def sample_referral(practice_agb: str = "04123456", **overrides: object) -> ReferralReceived:
    """A valid ReferralReceived with a placeholder seal, for tests and benchmarks that need an event."""
    fields: dict[str, object] = {
        "route": "gp_referral",
        "practice_agb": practice_agb,
        "referrer_agb": "01234567",
        "referred_on": date(2026, 11, 20),
        "symptom_onset": date(2026, 11, 2),
        "patient_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "has_request_for_help": True,
        "has_reason": True,
        "personal": Sealed(
            key_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
            nonce="AAAAAAAAAAAAAAAA",
            ciphertext="c2VhbGVkLXRlc3QtYmxvYg==",
        ),
    }
    fields.update(overrides)
    return ReferralReceived(**fields)
