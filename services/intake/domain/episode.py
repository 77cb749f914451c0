"""The intake episode aggregate: rebuilt from its events; commands check a guard and return new events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.intake import ReferralReceived
from shared.events.payload import EventPayload

# Episode ids are uuid5 of the practice and the referring system's own referral id, so a GP system that
# sends the same referral twice reaches the same episode instead of opening a second one.
EPISODE_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-5d8e-9a55-5c3b7a0e9d11")


def episode_id_for(practice_agb: str, referral_id: str) -> uuid.UUID:
    return uuid.uuid5(EPISODE_NAMESPACE, f"{practice_agb}:{referral_id}")


class ReceiveReferral(BaseModel):
    """Command: register a referral (verwijzing) or a direct-access registration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str = Field(min_length=1, max_length=100, description="The sending system's own id.")
    route: Literal["gp_referral", "specialist_referral", "direct_access"]
    practice_agb: str = Field(pattern=r"^\d{8}$")
    referrer_agb: str | None = Field(default=None, pattern=r"^\d{8}$")
    referred_on: date
    symptom_onset: date | None = None


class ReferralMismatch(ValueError):
    """The same referral id arrived again with different content."""


@dataclass
class Episode:
    id: uuid.UUID
    version: int = 0
    referral: ReferralReceived | None = None

    @classmethod
    def rebuild(cls, episode_id: uuid.UUID, events: Iterable[EventPayload]) -> Episode:
        episode = cls(episode_id)
        for event in events:
            episode.apply(event)
        return episode

    def apply(self, event: EventPayload) -> None:
        self.version += 1
        if isinstance(event, ReferralReceived):
            self.referral = event

    @property
    def exists(self) -> bool:
        return self.referral is not None


def receive_referral(episode: Episode, command: ReceiveReferral) -> list[EventPayload]:
    """Open the episode; the same referral again is a no-op, a changed one is refused."""
    if command.route != "direct_access" and command.referrer_agb is None:
        raise ReferralMismatch("referrer_agb: a referral needs the verwijzer's AGB code")
    event = ReferralReceived(
        route=command.route,
        practice_agb=command.practice_agb,
        referrer_agb=command.referrer_agb,
        referred_on=command.referred_on,
        symptom_onset=command.symptom_onset,
    )
    if episode.exists:
        if episode.referral != event:
            raise ReferralMismatch("referral_id: this referral was received before with other content")
        return []
    return [event]
