"""Key-encryption keys (KEKs): what wraps each patient's data key before it is stored, and never enters PostgreSQL.

A data key is stored only wrapped, so no database file, WAL segment or backup alone holds a usable key. The
interface is small on purpose: a KMS or a Vault transit engine fits behind it in production (wrap = encrypt,
unwrap = decrypt, the key id = the key version); `LocalKeyring` (a file or the environment) is the embedded
default. Rotation (`store.patients.rotate`) re-wraps the live keys under the current KEK, after which the retired
KEK can be destroyed: that is what makes an erasure final for WAL segments and backups that still hold a key
wrapped under it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import uuid
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Bound to every wrap as associated data with the patient's pseudonym: a wrapped key moved to another patient's
# row does not unwrap.
_CONTEXT = b"ruggengraat/intake/patient-data-key/v1:"
_NONCE_BYTES = 12


class KeyUnavailable(Exception):
    """A wrapped key cannot be unwrapped: its KEK is retired (destroyed) or the blob is not what was wrapped."""


@dataclass(frozen=True)
class WrappedKey:
    kek_id: str
    blob: bytes


class KeyEncryption(Protocol):
    """Wraps and unwraps patients' data keys with a key that stays outside the database. Asynchronous, since a KMS
    or Vault answers over the network."""

    @property
    def current(self) -> str:
        """The id of the KEK new wraps use."""
        ...

    async def wrap(self, data_key: bytes, patient_id: uuid.UUID) -> WrappedKey: ...

    async def unwrap(self, wrapped: WrappedKey, patient_id: uuid.UUID) -> bytes:
        """The data key; raises KeyUnavailable when `wrapped.kek_id` is not held (any more)."""
        ...

    async def holds(self, kek_id: str) -> bool:
        """Whether keys wrapped under `kek_id` can be unwrapped."""
        ...


class LocalKeyring:
    """KEKs held by the process (from a file or the environment): AES-256-GCM, one current, others readable
    until they are removed from the keyring, which is how a KEK is retired."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"current: {current!r} is not among the keyring's keys")
        for kek_id, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"keys.{kek_id}: a key-encryption key is 32 bytes (AES-256), not {len(key)}")
        self._keys = {kek_id: AESGCM(key) for kek_id, key in keys.items()}
        self._current = current

    @property
    def current(self) -> str:
        return self._current

    async def holds(self, kek_id: str) -> bool:
        return kek_id in self._keys

    async def wrap(self, data_key: bytes, patient_id: uuid.UUID) -> WrappedKey:
        nonce = os.urandom(_NONCE_BYTES)
        blob = nonce + self._keys[self._current].encrypt(nonce, data_key, _CONTEXT + patient_id.bytes)
        return WrappedKey(self._current, blob)

    async def unwrap(self, wrapped: WrappedKey, patient_id: uuid.UUID) -> bytes:
        aead = self._keys.get(wrapped.kek_id)
        if aead is None:
            raise KeyUnavailable(f"key-encryption key {wrapped.kek_id!r} is not held (retired?)")
        nonce, sealed = wrapped.blob[:_NONCE_BYTES], wrapped.blob[_NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, sealed, _CONTEXT + patient_id.bytes)
        except InvalidTag as error:
            raise KeyUnavailable(f"wrapped key does not open under {wrapped.kek_id!r} for this patient") from error


def parse_keyring(text: str) -> LocalKeyring:
    """`{"current": "<id>", "keys": {"<id>": "<32 bytes, base64>", …}}` — the file's or the variable's content."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"keyring: not JSON ({error.msg})") from error
    if not isinstance(document, dict) or not isinstance(document.get("keys"), dict) or not document["keys"]:
        raise ValueError('keyring: expected {"current": "<id>", "keys": {"<id>": "<base64>"}}')
    keys = {}
    for kek_id, encoded in document["keys"].items():
        try:
            keys[str(kek_id)] = base64.b64decode(str(encoded), validate=True)
        except binascii.Error as error:
            raise ValueError(f"keyring: keys.{kek_id} is not base64") from error
    return LocalKeyring(keys, str(document.get("current", "")))


def keyring_document(keys: dict[str, bytes], current: str) -> str:
    """The JSON `parse_keyring` reads (for writing a keyring file)."""
    return json.dumps({"current": current, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}})


def new_kek() -> bytes:
    return AESGCM.generate_key(bit_length=256)
