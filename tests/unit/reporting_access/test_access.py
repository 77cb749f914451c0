"""Reporting's access decisions, pure: who sees an episode and its letters, who corrects a letter, and what of
the network's figures a caller sees."""

from services.reporting.access import may_correct_letters, may_see_episode, network_scope
from shared.auth import Caller, Role

PRACTICE = Caller(user="u", role=Role.PRACTICE, org="04123456")
REFERRER = Caller(user="u", role=Role.REFERRER, org="01234567")
NETWORK = Caller(user="u", role=Role.NETWORK, org="network")


def test_the_episodes_practice_and_verwijzer_see_it_and_nobody_else():
    assert may_see_episode(PRACTICE, "04123456", "01234567")
    assert may_see_episode(REFERRER, "04123456", "01234567")
    assert not may_see_episode(Caller(user="u", role=Role.PRACTICE, org="09999999"), "04123456", "01234567")
    assert not may_see_episode(REFERRER, "04123456", None)
    assert not may_see_episode(NETWORK, "04123456", "01234567")


def test_only_the_episodes_practice_corrects_its_letters():
    assert may_correct_letters(PRACTICE, "04123456")
    assert not may_correct_letters(PRACTICE, "09999999")
    assert not may_correct_letters(REFERRER, "04123456")
    assert not may_correct_letters(PRACTICE, None)


def test_the_network_sees_every_practice_and_a_practice_only_its_own_figures():
    everyone = network_scope(NETWORK, None)
    assert everyone is not None and everyone.network and everyone.practice is None
    assert everyone.visible("04123456") and everyone.visible("09999999")
    one = network_scope(NETWORK, "09999999")
    assert one is not None and one.practice == "09999999" and one.visible("04123456")
    own = network_scope(PRACTICE, None)
    assert own is not None and not own.network and own.practice == "04123456"
    assert own.visible("04123456") and not own.visible("09999999")
    assert network_scope(PRACTICE, "04123456") == own
    assert network_scope(PRACTICE, "09999999") is None
