"""The services as the operator's page asks them (by PEER_URLS, this one included): each one's status, its
consumer's dead letters and the actions on them, and the pathway's counts per practice. The request carries the
operator's own token, so each service decides access itself and keeps who acted. A service that cannot be
reached is said to be unreachable, never shown as empty."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shared.logging import get_logger
from shared.status_routes import PracticeAttention, ServiceStatus

log = get_logger(__name__)

SERVICES = ("intake", "pathway", "reporting", "notifications")
PEER_TIMEOUT_SECONDS = 5.0  # a status includes /ready's checks, which wait up to 3 s for the broker


class PeerUnreachable(Exception):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} cannot be reached: {reason}")
        self.service = service
        self.reason = reason


@dataclass(frozen=True)
class Peers:
    urls: Mapping[str, str]
    timeout: float = PEER_TIMEOUT_SECONDS

    async def call(
        self, service: str, method: str, path: str, authorization: str, body: Any = None, params: Any = None
    ) -> httpx.Response:
        """The service's answer to the request, made with the operator's `authorization`. Raises
        PeerUnreachable when it has no address or does not answer."""
        base = self.urls.get(service)
        if base is None:
            raise PeerUnreachable(service, "no address in PEER_URLS")
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                return await client.request(
                    method, f"{base}{path}", json=body, params=params, headers={"authorization": authorization}
                )
        except httpx.HTTPError as error:
            log.warning("operations.peer_unreachable", peer=service, error=repr(error))
            raise PeerUnreachable(service, type(error).__name__) from error


@dataclass(frozen=True)
class ServiceCard:
    """One service as the page shows it: its status, or why it could not be read."""

    service: str
    status: ServiceStatus | None
    error: str | None


async def statuses(peers: Peers, authorization: str) -> list[ServiceCard]:
    """Every service's `/v1/operations/status`, asked at once."""

    async def one(service: str) -> ServiceCard:
        try:
            answer = await peers.call(service, "GET", "/v1/operations/status", authorization)
        except PeerUnreachable as error:
            return ServiceCard(service, None, str(error))
        if answer.status_code != 200:
            return ServiceCard(service, None, f"{service} answered {answer.status_code}")
        return ServiceCard(service, ServiceStatus.model_validate(answer.json()), None)

    return list(await asyncio.gather(*(one(service) for service in SERVICES)))


async def practice_attention(peers: Peers, authorization: str) -> tuple[list[PracticeAttention] | None, str | None]:
    """The pathway's open escalations and overdue evaluations per practice, or why they could not be read."""
    try:
        answer = await peers.call("pathway", "GET", "/v1/operations/practices", authorization)
    except PeerUnreachable as error:
        return None, str(error)
    if answer.status_code != 200:
        return None, f"pathway answered {answer.status_code}"
    return [PracticeAttention.model_validate(row) for row in answer.json()], None
