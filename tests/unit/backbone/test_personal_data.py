"""Sealing personal data: AES-GCM per patient, bound to its episode; BSN lookups keyed; retention dates."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.intake.domain.retention import destruction_due_on, is_due
from services.intake.keys.sealing import activity_reference, bsn_lookup, open_sealed, seal

KEY = AESGCM.generate_key(bit_length=256)
PATIENT = uuid.uuid4()
VALUE = {"patient": {"name": "J. de Vries", "bsn": "999990019", "birth_date": "1968-04-12"}, "reason": "rugpijn"}


def test_sealed_data_opens_with_its_key_and_episode_and_shows_nothing_in_clear():
    sealed = seal(KEY, PATIENT, VALUE, context="episode-1")
    assert open_sealed(KEY, sealed, context="episode-1") == VALUE
    blob = sealed.model_dump_json()
    assert "de Vries" not in blob and "999990019" not in blob and "1968-04-12" not in blob
    assert sealed.key_id == PATIENT


def test_every_seal_uses_a_fresh_nonce():
    assert seal(KEY, PATIENT, VALUE, "e").ciphertext != seal(KEY, PATIENT, VALUE, "e").ciphertext


def test_sealed_data_does_not_open_with_another_key_or_in_another_episode():
    sealed = seal(KEY, PATIENT, VALUE, context="episode-1")
    with pytest.raises(ValueError):
        open_sealed(AESGCM.generate_key(bit_length=256), sealed, context="episode-1")
    with pytest.raises(ValueError):
        open_sealed(KEY, sealed, context="episode-2")


def test_the_bsn_lookup_is_stable_per_practice_and_depends_on_the_secret():
    a = bsn_lookup("s" * 32, "04123456", "999990019")
    assert a == bsn_lookup("s" * 32, "04123456", "999990019")
    assert a != bsn_lookup("t" * 32, "04123456", "999990019")
    assert a != bsn_lookup("s" * 32, "04999999", "999990019")


@pytest.mark.parametrize(
    ("last", "due"),
    [(date(2006, 5, 17), date(2026, 5, 17)), (date(2005, 3, 1), date(2025, 3, 1))],
)
def test_a_record_falls_due_twenty_years_after_the_last_treatment(last: date, due: date):
    assert destruction_due_on(last) == due
    assert is_due(last, due) and not is_due(last, date.fromordinal(due.toordinal() - 1))


def test_a_leap_day_moves_to_the_first_of_march_when_the_due_year_has_none():
    assert destruction_due_on(date(2080, 2, 29)) == date(2100, 3, 1)  # 2100 is no leap year
    assert destruction_due_on(date(2004, 2, 29)) == date(2024, 2, 29)


def test_an_activity_reference_is_the_same_for_the_same_label_of_one_patient_and_tells_nothing_without_the_key():
    reference = activity_reference(KEY, "Fietsen naar het werk")
    assert reference == activity_reference(KEY, "  fietsen NAAR het werk ")  # trimmed, case-folded
    assert reference != activity_reference(KEY, "wandelen")
    assert reference != activity_reference(AESGCM.generate_key(bit_length=256), "Fietsen naar het werk")
    assert reference.startswith("activity-") and "fietsen" not in reference.casefold() and len(reference) <= 100
