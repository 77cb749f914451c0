"""Intake's referral rules: deterministic episode ids, idempotent receipt, refused changes."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.domain.episode import (
    Episode,
    ReceiveReferral,
    ReferralMismatch,
    episode_id_for,
    receive_referral,
)
from shared.events.intake import ReferralReceived

COMMAND = ReceiveReferral(
    referral_id="HIS-1",
    route="gp_referral",
    practice_agb="04123456",
    referrer_agb="01234567",
    referred_on=date(2026, 11, 20),
)


def test_the_same_referral_id_at_the_same_practice_is_the_same_episode():
    assert episode_id_for("04123456", "HIS-1") == episode_id_for("04123456", "HIS-1")
    assert episode_id_for("04123456", "HIS-1") != episode_id_for("04999999", "HIS-1")


def test_a_new_referral_opens_the_episode():
    events = receive_referral(Episode(episode_id_for("04123456", "HIS-1")), COMMAND)
    assert events == [
        ReferralReceived(
            route="gp_referral", practice_agb="04123456", referrer_agb="01234567", referred_on=date(2026, 11, 20)
        )
    ]


def test_receiving_the_same_referral_again_changes_nothing():
    episode = Episode.rebuild(episode_id_for("04123456", "HIS-1"), receive_referral(Episode(None), COMMAND))
    assert receive_referral(episode, COMMAND) == []
    assert episode.version == 1


def test_the_same_referral_id_with_other_content_is_refused():
    episode = Episode.rebuild(episode_id_for("04123456", "HIS-1"), receive_referral(Episode(None), COMMAND))
    with pytest.raises(ReferralMismatch, match="referral_id"):
        receive_referral(episode, COMMAND.model_copy(update={"referred_on": date(2026, 11, 21)}))


def test_a_referral_without_the_verwijzer_is_refused_but_direct_access_needs_none():
    with pytest.raises(ReferralMismatch, match="referrer_agb"):
        receive_referral(Episode(None), COMMAND.model_copy(update={"referrer_agb": None}))
    direct = COMMAND.model_copy(update={"route": "direct_access", "referrer_agb": None})
    assert len(receive_referral(Episode(None), direct)) == 1
