"""The intake episode aggregate: rebuilt from its events; commands check a guard and return new events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.intake import PatientDataErased, ReferralReceived
from shared.events.payload import EventPayload
from shared.events.sealed import Sealed

# Episode ids are uuid5 of the practice and the referring system's own referral id, so a GP system that
# sends the same referral twice reaches the same episode instead of opening a second one.
EPISODE_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-5d8e-9a55-5c3b7a0e9d11")


def episode_id_for(practice_agb: str, referral_id: str) -> uuid.UUID:
    return uuid.uuid5(EPISODE_NAMESPACE, f"{practice_agb}:{referral_id}")


def bsn_is_valid(bsn: str) -> bool:
    """The Dutch BSN "elfproef": 9 digits, weights 9..2 and -1, sum divisible by 11."""
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True)) - int(bsn[8])
    return total % 11 == 0 and total != 0


class PatientDetails(BaseModel):
    """Who the patient is. Never leaves intake unsealed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    bsn: str = Field(description="Burgerservicenummer, 9 digits passing the elfproef.")
    birth_date: date
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)

    @field_validator("bsn")
    @classmethod
    def _elfproef(cls, value: str) -> str:
        if not bsn_is_valid(value):
            raise ValueError("not a valid BSN (9 digits passing the elfproef)")
        return value


class ReceiveReferral(BaseModel):
    """Command: register a referral (verwijzing) or a direct-access registration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str = Field(min_length=1, max_length=100, description="The sending system's own id.")
    route: Literal["gp_referral", "specialist_referral", "direct_access"]
    practice_agb: str = Field(pattern=r"^\d{8}$")
    referrer_agb: str | None = Field(default=None, pattern=r"^\d{8}$")
    referred_on: date
    symptom_onset: date | None = None
    patient: PatientDetails
    request_for_help: str | None = Field(default=None, max_length=4000, description="De hulpvraag (free text).")
    reason: str | None = Field(default=None, max_length=4000, description="Reason for referral (free text).")

    def personal(self) -> dict[str, object]:
        """What gets sealed: identifying data and free text."""
        return {
            "patient": self.patient.model_dump(mode="json"),
            "request_for_help": self.request_for_help,
            "reason": self.reason,
        }


class ReferralMismatch(ValueError):
    """The same referral id arrived again with different content."""


@dataclass
class Episode:
    id: uuid.UUID | None
    version: int = 0
    referral: ReferralReceived | None = None
    erased_at: datetime | None = None

    @classmethod
    def rebuild(cls, episode_id: uuid.UUID | None, events: Iterable[EventPayload]) -> Episode:
        episode = cls(episode_id)
        for event in events:
            episode.apply(event)
        return episode

    def apply(self, event: EventPayload) -> None:
        self.version += 1
        if isinstance(event, ReferralReceived):
            self.referral = event
        elif isinstance(event, PatientDataErased):
            self.erased_at = event.erased_at

    @property
    def exists(self) -> bool:
        return self.referral is not None


def _comparable(event: ReferralReceived) -> dict[str, object]:
    return event.model_dump(exclude={"personal"})


def receive_referral(
    episode: Episode, command: ReceiveReferral, patient_id: uuid.UUID, personal: Sealed
) -> list[EventPayload]:
    """Open the episode; the same referral again is a no-op, a changed one is refused."""
    if command.route != "direct_access" and command.referrer_agb is None:
        raise ReferralMismatch("referrer_agb: a referral needs the verwijzer's AGB code")
    event = ReferralReceived(
        route=command.route,
        practice_agb=command.practice_agb,
        referrer_agb=command.referrer_agb,
        referred_on=command.referred_on,
        symptom_onset=command.symptom_onset,
        patient_id=patient_id,
        has_request_for_help=bool(command.request_for_help and command.request_for_help.strip()),
        has_reason=bool(command.reason and command.reason.strip()),
        personal=personal,
    )
    if episode.exists:
        assert episode.referral is not None
        if _comparable(episode.referral) != _comparable(event):
            raise ReferralMismatch("referral_id: this referral was received before with other content")
        return []
    return [event]


def erase_personal_data(episode: Episode, patient_id: uuid.UUID, erased_at: datetime) -> list[EventPayload]:
    """Record the erasure on the episode once; a second request changes nothing."""
    if not episode.exists or episode.erased_at is not None:
        return []
    return [PatientDataErased(patient_id=patient_id, erased_at=erased_at)]
