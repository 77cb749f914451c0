"""Who may see or act on what at intake: pure decisions of the caller and the resource, nothing else. Routes and
handlers ask these; a statement that narrows what a caller may see (`store.episodes.open_for_command`) narrows by
what they decide (`command_scope`). An episode or patient that is not the caller's is answered as unknown (404),
so nobody learns that it exists."""

from __future__ import annotations

from shared.access import may_see_episode as _may_see_episode
from shared.auth import Caller, Role


class NotFound(LookupError):
    """Unknown, or not the caller's: the same answer for both."""


def may_refer(caller: Caller, practice_agb: str, referrer_agb: str | None) -> bool:
    """A practice registers for itself; a verwijzer refers under its own AGB code."""
    return caller.acts_for(Role.PRACTICE, practice_agb) or caller.acts_for(Role.REFERRER, referrer_agb)


def may_see_episode(caller: Caller, practice_agb: str | None, referrer_agb: str | None) -> bool:
    """The episode's practice and the verwijzer who referred it; nobody else."""
    return _may_see_episode(caller, practice_agb, referrer_agb)


def may_act_on_episode(caller: Caller, practice_agb: str | None) -> bool:
    """Only the episode's own practice records in it or names its physiotherapist."""
    return caller.acts_for(Role.PRACTICE, practice_agb)


def command_scope(caller: Caller) -> str:
    """The practice whose episodes an episode command may reach: the caller's own (the routes admit only
    practices); the command's read finds nothing of any other."""
    return caller.org


def owns_patient(caller: Caller, practice_agb: str | None) -> bool:
    """A patient's data (erasure, access log) is the practice's they are registered with."""
    return practice_agb is not None and caller.acts_for(Role.PRACTICE, practice_agb)


def may_keep_entry(caller: Caller, role: Role, agb: str) -> bool:
    """A practice or verwijzer keeps its own entry in the register; an operator any."""
    return caller.role is Role.OPERATOR or caller.acts_for(role, agb)
