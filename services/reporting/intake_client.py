"""What intake adds when a letter is shown: the patient's personal data and the letter's parties from the
register. A letter is never shown without knowing whether the patient's data was erased: when intake cannot
say, the caller is asked to come back (503 problem+json with Retry-After), never told the data was erased."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import HTTPException, status

from services.reporting.domain.letters.content import LetterFacts
from shared.auth import service_headers
from shared.logging import get_logger
from shared.practice_register import LetterParties
from shared.settings import ServiceSettings

log = get_logger(__name__)
#: Intake restarts in seconds; a letter asked for again after this is usually shown.
INTAKE_RETRY_AFTER_SECONDS = 5
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "Intake cannot be reached; try again after Retry-After seconds"}
}


def intake_unreachable(reason: str) -> HTTPException:
    log.warning("letters.intake_unreachable", reason=reason)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "The patient's data and the letter's sender and addressee come from intake, which cannot be reached "
        "right now; the letter is not shown without them. Try again after Retry-After seconds.",
        headers={"Retry-After": str(INTAKE_RETRY_AFTER_SECONDS)},
    )


@dataclass(frozen=True)
class IntakeClient:
    """Intake as reporting asks it, as the service `reporting` (its address from PEER_URLS; None: not known)."""

    base_url: str | None
    jwt_secret: str

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> IntakeClient:
        return cls(settings.peer_urls.get("intake"), settings.jwt_secret)

    async def _get(self, path: str) -> httpx.Response:
        if self.base_url is None:
            raise intake_unreachable("no address for intake in PEER_URLS")
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(
                    f"{self.base_url}{path}", headers=service_headers(self.jwt_secret, "reporting")
                )
        except httpx.HTTPError as error:
            raise intake_unreachable(repr(error)) from error
        if response.status_code >= 500:
            raise intake_unreachable(f"intake answered {response.status_code}")
        return response

    async def shown_with(self, episode_id: uuid.UUID, facts: LetterFacts) -> tuple[dict | None, LetterParties]:
        """The patient's personal data (None only when intake says it was erased: 410) and the letter's parties
        from the register. Raises a 503 HTTPException when intake cannot say."""
        personal_answer = await self._get(f"/v1/episodes/{episode_id}/letter-data")
        if personal_answer.status_code == 200:
            personal = personal_answer.json()
        elif personal_answer.status_code == 410:
            personal = None
        else:
            raise intake_unreachable(f"intake answered {personal_answer.status_code} for the patient's data")
        parties_answer = await self._get(f"/v1/episodes/{episode_id}/letter-parties")
        if parties_answer.status_code == 200:
            parties = LetterParties.model_validate(parties_answer.json())
        else:  # intake has no register entry for the episode: name the parties by their AGB codes
            parties = LetterParties(
                practice_agb=facts.practice_agb or "onbekend",
                practice=None,
                therapist_agb=None,
                therapist=None,
                referrer_agb=facts.referrer_agb,
                referrer=None,
            )
        return personal, parties
