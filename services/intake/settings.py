"""Intake settings, read from the environment."""

from pathlib import Path

from pydantic import Field, PrivateAttr, model_validator

from services.intake.keys.encryption import KeyEncryption, LocalKeyring, parse_keyring
from shared.settings import ServiceSettings

DEVELOPMENT_PSEUDONYM_SECRET = "development-only-pseudonym-secret-0123456789abcdef"
# The embedded default KEK: development only (it is in the source, so it protects nothing); production refuses it.
DEVELOPMENT_KEYRING = (
    '{"current": "development", "keys": {"development": "ZGV2ZWxvcG1lbnQtb25seS1rZWstMDEyMzQ1Njc4OWE="}}'
)


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8001
    pseudonym_secret: str = Field(
        default=DEVELOPMENT_PSEUDONYM_SECRET, min_length=32, description="HMAC key for the BSN lookup."
    )
    key_encryption_keys: str | None = Field(
        default=None,
        description='The keyring that wraps patients\' keys, as JSON {"current": id, "keys": {id: base64}}'
        " (KEY_ENCRYPTION_KEYS); never stored in the database.",
    )
    key_encryption_key_file: Path | None = Field(
        default=None, description="A file holding that keyring (KEY_ENCRYPTION_KEY_FILE); read at start."
    )
    _keyring: LocalKeyring | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> "IntakeSettings":
        if self.key_encryption_keys is not None and self.key_encryption_key_file is not None:
            raise ValueError("key_encryption_keys: set KEY_ENCRYPTION_KEYS or KEY_ENCRYPTION_KEY_FILE, not both")
        if self.environment == "production":
            if self.pseudonym_secret == DEVELOPMENT_PSEUDONYM_SECRET:
                raise ValueError("pseudonym_secret: production refuses the development secret; set PSEUDONYM_SECRET")
            if self._keyring_text() == DEVELOPMENT_KEYRING:
                raise ValueError(
                    "key_encryption_keys: production refuses the development keyring;"
                    " set KEY_ENCRYPTION_KEYS or KEY_ENCRYPTION_KEY_FILE"
                )
        self._keyring = parse_keyring(self._keyring_text())
        return self

    def _keyring_text(self) -> str:
        if self.key_encryption_key_file is not None:
            return self.key_encryption_key_file.read_text()
        return self.key_encryption_keys or DEVELOPMENT_KEYRING

    def key_encryption(self) -> KeyEncryption:
        assert self._keyring is not None
        return self._keyring
