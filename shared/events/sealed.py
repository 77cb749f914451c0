"""Sealed personal data: what an event carries instead of a name, BSN, date of birth or free text.

AES-256-GCM with a key per patient that only the intake service holds. Deleting the key (erasure on the
patient's request, WGBO art. 7:455) makes every copy of the ciphertext unreadable: in event stores, on the
broker, in read models and delivery logs alike.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

SEALED_ALGORITHM = "AES-256-GCM"


class Sealed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: uuid.UUID = Field(description="The patient pseudonym whose key sealed this.")
    alg: str = Field(default=SEALED_ALGORITHM, pattern=r"^AES-256-GCM$")
    nonce: str = Field(description="96-bit nonce, base64url.", min_length=16, max_length=16)
    ciphertext: str = Field(description="Ciphertext and tag, base64url.", min_length=1)
