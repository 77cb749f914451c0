"""Who may see what of the pathway: pure decisions of the caller and the resource, no I/O.

The routes use them through one dependency (`routes.dependencies.ReaderDep`); SQL only narrows what the
caller may see using what is decided here (`open_escalations` takes the scope `escalations_scope` chose).
"""

from __future__ import annotations

from typing import Literal

from shared.access import may_see_episode as _may_see
from shared.auth import Caller, Role

READERS = (Role.PRACTICE, Role.REFERRER)
"""The roles that read the pathway's episodes and escalations: the practice and the verwijzer."""

OPERATORS = (Role.OPERATOR,)
"""Who sees, per practice, how many escalations are open and evaluations overdue (counts, no clinical content)."""

Party = Literal["practice", "referrer"]


def may_see_episode(caller: Caller, parties: tuple[str, str | None] | None) -> bool:
    """The episode's practice and the verwijzer who referred it; nobody for an episode the pathway does not
    know (the routes answer 404 for both "unknown" and "not yours")."""
    return parties is not None and _may_see(caller, *parties)


def escalations_scope(caller: Caller) -> tuple[Party, str]:
    """Whose episodes' escalations the caller sees (the party and its AGB): a practice its own, a verwijzer
    those it referred."""
    return ("practice" if caller.role is Role.PRACTICE else "referrer"), caller.org


PROTOCOL_ADOPTERS = (Role.NETWORK,)
"""Who adopts the network's protocol: the regional network."""

PROTOCOL_READERS = (Role.NETWORK, Role.PRACTICE)
"""Who reads the protocol in force and its history, and tries a draft on history: the network (counts of every
practice) and a practice (its own episodes)."""
