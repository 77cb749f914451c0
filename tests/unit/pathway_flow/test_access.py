"""Who may see what of the pathway: the practice and the verwijzer of an episode, nobody else."""

from __future__ import annotations

from services.pathway.access import escalations_scope, may_see_episode
from shared.auth import Caller, Role

PRACTICE = Caller(user="u", role=Role.PRACTICE, org="04123456")
REFERRER = Caller(user="u", role=Role.REFERRER, org="01234567")
PARTIES = ("04123456", "01234567")


def test_the_practice_and_the_verwijzer_see_their_episode():
    assert may_see_episode(PRACTICE, PARTIES)
    assert may_see_episode(REFERRER, PARTIES)


def test_another_practice_a_direct_access_episode_without_verwijzer_and_an_unknown_episode_are_not_seen():
    assert not may_see_episode(Caller(user="u", role=Role.PRACTICE, org="09999999"), PARTIES)
    assert not may_see_episode(REFERRER, ("04123456", None))
    assert not may_see_episode(PRACTICE, None)


def test_a_practice_sees_the_escalations_of_its_own_episodes_a_verwijzer_those_it_referred():
    assert escalations_scope(PRACTICE) == ("practice", "04123456")
    assert escalations_scope(REFERRER) == ("referrer", "01234567")
