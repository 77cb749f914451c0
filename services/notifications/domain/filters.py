"""Which episodes a subscription covers: its practice or the episodes it referred, within the caller's scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

AGB = re.compile(r"^\d{8}$")


class Party(StrEnum):
    PRACTICE = "practice"  # the physiotherapy practice treating the episode
    REFERRER = "referrer"  # the verwijzer who referred the episode


@dataclass(frozen=True)
class Filter:
    party: Party
    agb: str

    def as_scope(self) -> str:
        return f"{self.party.value}:{self.agb}"


@dataclass(frozen=True)
class EpisodeParties:
    practice_agb: str
    referrer_agb: str | None


def parse_scope(scope: str | None) -> Filter | None:
    """A subscriber credential's scope ("practice:<AGB>" or "referrer:<AGB>"), or None when it has none."""
    if not scope:
        return None
    party, _, agb = scope.partition(":")
    if party not in Party.__members__.values() or not AGB.match(agb):
        return None
    return Filter(Party(party), agb)


def within_scope(wanted: Filter, scope: str | None) -> bool:
    """A subscriber may only ask for what its credential covers: exactly the party and AGB of its scope."""
    granted = parse_scope(scope)
    return granted is not None and granted == wanted


def covers(wanted: Filter, parties: EpisodeParties) -> bool:
    if wanted.party is Party.PRACTICE:
        return parties.practice_agb == wanted.agb
    return parties.referrer_agb is not None and parties.referrer_agb == wanted.agb


def matches(wanted: Filter | None, event_types: list[str], parties: EpisodeParties, event_type: str) -> bool:
    """Whether an event of `event_type` in an episode with these parties goes to the subscription.

    A subscription without a filter (created before filters existed) matches nothing: delivering every
    episode to it would show a subscriber episodes that are not its own.
    """
    return wanted is not None and event_type in event_types and covers(wanted, parties)
