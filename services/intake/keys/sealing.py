"""Personal data at intake: the BSN lookup, sealing and opening with a patient's key (AES-GCM, `cryptography`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.events.sealed import Sealed


def bsn_lookup(secret: str, practice_agb: str, bsn: str) -> uuid.UUID:
    """How a referral finds its patient (`patient_keys.lookup`): keyed, stable for one BSN at one practice, not
    reversible without the secret (a plain hash of a BSN could be found by trying all nine-digit numbers). It is
    not the patient's pseudonym (that is random) and is erased with the key."""
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


def activity_reference(key: bytes, label: str) -> str:
    """What stands in for an activity label in events: the same for the same label (trimmed, case-folded) of one
    patient, so rules can still compare activities; nothing to learn from without the patient's key, which may be
    erased (a plain hash of "wandelen" would be found by trying a dictionary)."""
    subkey = hmac.new(key, b"ruggengraat/intake/activity-reference/v1", hashlib.sha256).digest()
    digest = hmac.new(subkey, label.strip().casefold().encode(), hashlib.sha256).hexdigest()
    return f"activity-{digest[:16]}"
