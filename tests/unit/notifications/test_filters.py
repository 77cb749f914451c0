"""A subscription covers its practice's episodes or the episodes its verwijzer referred, within its scope."""

from __future__ import annotations

import pytest

from services.notifications.domain.filters import EpisodeParties, Filter, Party, matches, parse_scope, within_scope
from services.notifications.domain.holding import HoldReason, hold_reason

REFERRAL = "nl.ruggengraat.intake.ReferralReceived"
PARTIES = EpisodeParties(practice_agb="04123456", referrer_agb="01234567")


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("practice:04123456", Filter(Party.PRACTICE, "04123456")),
        ("referrer:01234567", Filter(Party.REFERRER, "01234567")),
        ("referrer:123", None),
        ("admin:01234567", None),
        ("", None),
        (None, None),
    ],
)
def test_scopes_are_parsed_strictly(scope, expected):
    assert parse_scope(scope) == expected


def test_a_filter_must_be_exactly_the_callers_scope():
    wanted = Filter(Party.REFERRER, "01234567")
    assert within_scope(wanted, "referrer:01234567")
    assert not within_scope(wanted, "referrer:01999999")
    assert not within_scope(wanted, "practice:01234567")
    assert not within_scope(wanted, None)


def test_practice_and_referrer_filters_match_their_own_episodes_only():
    assert matches(Filter(Party.PRACTICE, "04123456"), [REFERRAL], PARTIES, REFERRAL)
    assert matches(Filter(Party.REFERRER, "01234567"), [REFERRAL], PARTIES, REFERRAL)
    assert not matches(Filter(Party.PRACTICE, "04999999"), [REFERRAL], PARTIES, REFERRAL)
    assert not matches(Filter(Party.REFERRER, "04123456"), [REFERRAL], PARTIES, REFERRAL)


def test_an_unwanted_type_or_a_missing_filter_matches_nothing():
    assert not matches(Filter(Party.PRACTICE, "04123456"), ["other"], PARTIES, REFERRAL)
    assert not matches(None, [REFERRAL], PARTIES, REFERRAL)


def test_a_direct_access_episode_has_no_referrer_to_match():
    direct = EpisodeParties(practice_agb="04123456", referrer_agb=None)
    assert not matches(Filter(Party.REFERRER, "01234567"), [REFERRAL], direct, REFERRAL)


def test_events_wait_for_parties_then_for_their_source_order_then_for_their_cause():
    assert (
        hold_reason(parties_known=False, earlier_of_same_source_held=False, cause_pending=False) is HoldReason.PARTIES
    )
    assert hold_reason(parties_known=True, earlier_of_same_source_held=True, cause_pending=False) is HoldReason.ORDER
    assert hold_reason(parties_known=True, earlier_of_same_source_held=False, cause_pending=True) is HoldReason.CAUSE
    assert hold_reason(parties_known=True, earlier_of_same_source_held=False, cause_pending=False) is None


def test_a_cause_is_waited_for_only_until_the_deadline_but_parties_for_ever():
    assert (
        hold_reason(
            parties_known=True, earlier_of_same_source_held=False, cause_pending=True, cause_deadline_passed=True
        )
        is None
    )
    assert (
        hold_reason(
            parties_known=False, earlier_of_same_source_held=False, cause_pending=True, cause_deadline_passed=True
        )
        is HoldReason.PARTIES
    )
