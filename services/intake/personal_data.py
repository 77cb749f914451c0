"""Personal data at intake: pseudonyms, per-patient keys, sealing and opening (AES-GCM, `cryptography`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from datetime import datetime
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.events.sealed import Sealed


class PersonalDataErased(Exception):
    """The patient's key is gone: their personal data can no longer be read anywhere."""


def patient_pseudonym(secret: str, practice_agb: str, bsn: str) -> uuid.UUID:
    """A keyed pseudonym: stable for one patient at one practice, not reversible without the secret
    (a plain hash of a BSN could be found by trying all nine-digit numbers)."""
    digest = hmac.new(secret.encode(), f"{practice_agb}:{bsn}".encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


def seal(key: bytes, patient_id: uuid.UUID, value: dict[str, Any], context: str) -> Sealed:
    """Encrypt `value`; `context` (e.g. the episode id) is bound as associated data, so a sealed blob
    cannot be moved to another episode unnoticed."""
    nonce = os.urandom(12)
    plaintext = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, context.encode())
    return Sealed(key_id=patient_id, nonce=_b64(nonce), ciphertext=_b64(ciphertext))


def open_sealed(key: bytes, sealed: Sealed, context: str) -> dict[str, Any]:
    try:
        plaintext = AESGCM(key).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext), context.encode())
    except InvalidTag as error:
        raise ValueError("sealed data does not belong to this key and context") from error
    return json.loads(plaintext)


# The patient's key, creating the patient on first sight, and the episode linked to them: CTEs `patient`
# (returns `data_key`; NULL once the patient's data was erased) and `episode`, with the parameters $1 to $6
# that `enrol_parameters` gives. A referral's statement runs them along with what else it needs; a referral
# that is then refused rolls both back.
ENROL = (
    "patient AS ("
    " INSERT INTO patients (patient_id, practice_agb, data_key, created_at, last_treatment_at)"
    " VALUES ($1, $2, $3, $4, $4)"
    " ON CONFLICT (patient_id) DO UPDATE SET last_treatment_at = greatest(patients.last_treatment_at, $4)"
    " RETURNING data_key),"
    " episode AS (INSERT INTO patient_episodes (episode_id, patient_id, practice_agb, referrer_agb)"
    " VALUES ($5, $1, $2, $6) ON CONFLICT DO NOTHING)"
)


def enrol_parameters(
    patient_id: uuid.UUID, episode_id: uuid.UUID, practice_agb: str, referrer_agb: str | None, now: datetime
) -> tuple[Any, ...]:
    """$1 to $6 of `ENROL`, with a fresh key for a patient seen for the first time."""
    return patient_id, practice_agb, AESGCM.generate_key(bit_length=256), now, episode_id, referrer_agb


def enrolled_key(patient_id: uuid.UUID, data_key: bytes | None) -> bytes:
    """The key `ENROL` returned; refuses a patient whose data was erased."""
    if data_key is None:
        raise PersonalDataErased(str(patient_id))
    return bytes(data_key)


async def key_of(conn: asyncpg.Connection, patient_id: uuid.UUID) -> bytes | None:
    value = await conn.fetchval("SELECT data_key FROM patients WHERE patient_id = $1", patient_id)
    return bytes(value) if value is not None else None
