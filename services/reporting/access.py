"""Who may see and do what in reporting: pure decisions of the caller and the resource, no I/O.

The routes use them through one dependency (`routes.dependencies`), the handlers when they loaded the
resource; SQL only narrows what the caller may see using what is decided here (`network_scope` chooses the
practice the network's figures are narrowed to).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.access import may_see_episode as _may_see
from shared.auth import Caller, Role

READERS = (Role.PRACTICE, Role.REFERRER)
"""The roles that read episodes and their letters: the practice and the verwijzer."""
CORRECTORS = (Role.PRACTICE,)
"""The role that corrects letters: the practice."""
NETWORK_READERS = (Role.NETWORK, Role.PRACTICE)
"""The roles that read the network's figures: the network (every practice) and a practice (its own)."""


def may_see_episode(caller: Caller, practice_agb: str | None, referrer_agb: str | None) -> bool:
    """The episode's practice and the verwijzer who referred it; nobody else, not even to learn that it exists
    (the routes answer 404 for both "unknown" and "not yours")."""
    return _may_see(caller, practice_agb, referrer_agb)


def may_correct_letters(caller: Caller, practice_agb: str | None) -> bool:
    """Only the episode's practice corrects its letters (anyone else learns nothing: 404)."""
    return caller.acts_for(Role.PRACTICE, practice_agb)


@dataclass(frozen=True)
class NetworkScope:
    """What of the network's figures a caller sees: every practice (the network) or one practice's own."""

    network: bool
    practice: str | None  # the practice the figures are narrowed to; None: every practice
    own: str  # the caller's organisation

    def visible(self, practice_agb: str) -> bool:
        return self.network or practice_agb == self.own


def network_scope(caller: Caller, practice: str | None) -> NetworkScope | None:
    """The network sees every practice, or the one it asks for; a practice only its own figures: None when it
    asks for another (403)."""
    if caller.role is Role.PRACTICE:
        if practice is not None and practice != caller.org:
            return None
        return NetworkScope(network=False, practice=caller.org, own=caller.org)
    return NetworkScope(network=True, practice=practice, own=caller.org)
