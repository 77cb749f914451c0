"""Wrapping patients' data keys with a key-encryption key held outside the database: what opens, what no longer
does once a KEK is retired, and what a keyring must look like."""

from __future__ import annotations

import uuid

import pytest

from services.intake.keys.encryption import KeyUnavailable, WrappedKey, keyring_document, new_kek, parse_keyring

OLD, NEW = new_kek(), new_kek()
PATIENT = uuid.uuid4()
DATA_KEY = b"d" * 32


async def test_a_wrapped_key_opens_only_for_its_patient_and_never_shows_in_clear():
    ring = parse_keyring(keyring_document({"a": OLD}, "a"))
    wrapped = await ring.wrap(DATA_KEY, PATIENT)
    assert wrapped.kek_id == "a" and DATA_KEY not in wrapped.blob and DATA_KEY.hex().encode() not in wrapped.blob
    assert await ring.unwrap(wrapped, PATIENT) == DATA_KEY
    with pytest.raises(KeyUnavailable):
        await ring.unwrap(wrapped, uuid.uuid4())  # moved to another patient's row
    with pytest.raises(KeyUnavailable):
        await ring.unwrap(WrappedKey("a", wrapped.blob[:-1] + bytes([wrapped.blob[-1] ^ 1])), PATIENT)
    assert (await ring.wrap(DATA_KEY, PATIENT)).blob != wrapped.blob  # a fresh nonce each time


async def test_after_rotation_the_retired_kek_is_needed_for_old_wraps_and_once_removed_they_stay_shut():
    old_ring = parse_keyring(keyring_document({"a": OLD}, "a"))
    before = await old_ring.wrap(DATA_KEY, PATIENT)
    rotating = parse_keyring(keyring_document({"a": OLD, "b": NEW}, "b"))
    rewrapped = await rotating.wrap(await rotating.unwrap(before, PATIENT), PATIENT)
    assert rewrapped.kek_id == "b"
    retired = parse_keyring(keyring_document({"b": NEW}, "b"))
    assert await retired.holds("b") and not await retired.holds("a")
    assert await retired.unwrap(rewrapped, PATIENT) == DATA_KEY
    with pytest.raises(KeyUnavailable, match="not held"):
        await retired.unwrap(before, PATIENT)  # a copy in an old WAL segment or backup
    with pytest.raises(KeyUnavailable):
        await retired.unwrap(WrappedKey("b", before.blob), PATIENT)  # nor under the new KEK's name


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ('{"current": "a"}', "expected"),
        ('{"current": "a", "keys": {}}', "expected"),
        ('{"current": "b", "keys": {"a": "' + "A" * 44 + '"}}', "not among"),
        ('{"current": "a", "keys": {"a": "%%%"}}', "not base64"),
        ('{"current": "a", "keys": {"a": "AAAA"}}', "32 bytes"),
    ],
)
def test_a_keyring_that_is_not_usable_is_refused_with_the_reason(text: str, reason: str):
    with pytest.raises(ValueError, match=reason):
        parse_keyring(text)
