"""Who may see an episode: its practice, and the verwijzer who referred it. Nobody else, not even to learn
that it exists (the routes answer 404 for both "unknown" and "not yours")."""

from __future__ import annotations

from fastapi import HTTPException, status

from shared.auth import Caller, Role


def may_see_episode(caller: Caller, practice_agb: str | None, referrer_agb: str | None) -> bool:
    return caller.acts_for(Role.PRACTICE, practice_agb) or caller.acts_for(Role.REFERRER, referrer_agb)


def episode_not_found(episode_id: object) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"episode {episode_id} is not known")


def require_episode_access(
    caller: Caller, episode_id: object, practice_agb: str | None, referrer_agb: str | None
) -> None:
    if not may_see_episode(caller, practice_agb, referrer_agb):
        raise episode_not_found(episode_id)
