"""Intake's referral rules: deterministic episode ids, idempotent receipt, refused changes, erasure."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from services.intake.domain.episode import (
    Episode,
    PatientDetails,
    ReceiveReferral,
    ReferralMismatch,
    bsn_is_valid,
    episode_id_for,
    erase_personal_data,
    receive_referral,
)
from shared.events.intake import PatientDataErased, ReferralReceived
from shared.events.sealed import Sealed

PATIENT = PatientDetails(name="J. de Vries", bsn="999990019", birth_date=date(1968, 4, 12))
COMMAND = ReceiveReferral(
    referral_id="HIS-1",
    route="gp_referral",
    practice_agb="04123456",
    referrer_agb="01234567",
    referred_on=date(2026, 11, 20),
    patient=PATIENT,
    request_for_help="Weer fietsen",
    reason=" ",
)
PATIENT_ID = uuid.uuid4()
SEALED = Sealed(key_id=PATIENT_ID, nonce="AAAAAAAAAAAAAAAA", ciphertext="eA==")


def opened() -> Episode:
    return Episode.rebuild(
        episode_id_for("04123456", "HIS-1"), receive_referral(Episode(None), COMMAND, PATIENT_ID, SEALED)
    )


def test_the_same_referral_id_at_the_same_practice_is_the_same_episode():
    assert episode_id_for("04123456", "HIS-1") == episode_id_for("04123456", "HIS-1")
    assert episode_id_for("04123456", "HIS-1") != episode_id_for("04999999", "HIS-1")


def test_a_new_referral_opens_the_episode_with_only_sealed_personal_data():
    [event] = receive_referral(Episode(None), COMMAND, PATIENT_ID, SEALED)
    assert isinstance(event, ReferralReceived)
    assert event.personal == SEALED and event.patient_id == PATIENT_ID
    assert event.has_request_for_help is True and event.has_reason is False  # blank text is no reason
    assert "de Vries" not in event.model_dump_json() and "999990019" not in event.model_dump_json()


def test_receiving_the_same_referral_again_changes_nothing_even_with_a_fresh_seal():
    episode = opened()
    reseal = Sealed(key_id=PATIENT_ID, nonce="BBBBBBBBBBBBBBBB", ciphertext="eQ==")
    assert receive_referral(episode, COMMAND, PATIENT_ID, reseal) == []
    assert episode.version == 1


def test_the_same_referral_id_with_other_content_or_another_patient_is_refused():
    episode = opened()
    with pytest.raises(ReferralMismatch, match="referral_id"):
        receive_referral(episode, COMMAND.model_copy(update={"referred_on": date(2026, 11, 21)}), PATIENT_ID, SEALED)
    with pytest.raises(ReferralMismatch, match="referral_id"):
        receive_referral(episode, COMMAND, uuid.uuid4(), SEALED)


def test_a_referral_without_the_verwijzer_is_refused_but_direct_access_needs_none():
    with pytest.raises(ReferralMismatch, match="referrer_agb"):
        receive_referral(Episode(None), COMMAND.model_copy(update={"referrer_agb": None}), PATIENT_ID, SEALED)
    direct = COMMAND.model_copy(update={"route": "direct_access", "referrer_agb": None})
    assert len(receive_referral(Episode(None), direct, PATIENT_ID, SEALED)) == 1


@pytest.mark.parametrize(
    ("bsn", "valid"),
    [
        ("999990019", True),
        ("111222333", True),
        ("123456789", False),
        ("000000000", False),
        ("12345678", False),
        ("12345678a", False),
    ],
)
def test_a_bsn_must_pass_the_elfproef(bsn: str, valid: bool):
    assert bsn_is_valid(bsn) is valid


def test_an_invalid_bsn_is_refused_by_field():
    with pytest.raises(ValidationError, match="bsn"):
        PatientDetails(name="x", bsn="123456789", birth_date=date(1970, 1, 1))


def test_erasure_is_recorded_once_per_episode():
    episode = opened()
    when = datetime(2027, 1, 1, tzinfo=UTC)
    [event] = erase_personal_data(episode, PATIENT_ID, when)
    assert event == PatientDataErased(patient_id=PATIENT_ID, erased_at=when)
    episode.apply(event)
    assert erase_personal_data(episode, PATIENT_ID, when) == []
    assert erase_personal_data(Episode(None), PATIENT_ID, when) == []
