"""Intake settings, read from the environment."""

from pydantic import Field, model_validator

from shared.settings import ServiceSettings

DEVELOPMENT_PSEUDONYM_SECRET = "development-only-pseudonym-secret-0123456789abcdef"


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8001
    pseudonym_secret: str = Field(
        default=DEVELOPMENT_PSEUDONYM_SECRET, min_length=32, description="HMAC key for patient pseudonyms."
    )

    @model_validator(mode="after")
    def _no_default_pseudonym_secret_in_production(self) -> "IntakeSettings":
        if self.environment == "production" and self.pseudonym_secret == DEVELOPMENT_PSEUDONYM_SECRET:
            raise ValueError("pseudonym_secret: production refuses the development secret; set PSEUDONYM_SECRET")
        return self
