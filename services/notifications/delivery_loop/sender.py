"""One HTTP attempt: check where the endpoint's host points, POST the signed CloudEvent, time it."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from datetime import UTC, datetime
from importlib.metadata import version
from urllib.parse import urlsplit

import httpx
from cloudevents.core.bindings.http import HTTPMessage

from services.notifications.domain.endpoints import refused_address
from services.notifications.domain.outcome import Attempt
from services.notifications.domain.retry_policy import parse_retry_after

# Who is calling, in every webhook request: receivers log it and may filter on it (httpx's own says only httpx).
USER_AGENT = f"Ruggengraat/{version('ruggengraat')} (webhooks)"


class AddressGuard:
    """Resolves an endpoint's host before each attempt and refuses internal addresses (cached briefly)."""

    def __init__(self, *, allow_loopback: bool, ttl_seconds: float = 30.0) -> None:
        self.allow_loopback = allow_loopback
        self.ttl = ttl_seconds
        self._cache: dict[tuple[str, int], tuple[float, str | None]] = {}

    async def refusal(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (host, port)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            return f"cannot resolve {host}: {error}"  # not cached: a name may come back
        reason = None
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            reason = refused_address(address, allow_loopback=self.allow_loopback)
            if reason is not None:
                reason = f"{host} resolves to {address}: {reason}"
                break
        self._cache[key] = (time.monotonic() + self.ttl, reason)
        return reason


async def post(
    client: httpx.AsyncClient, guard: AddressGuard, url: str, message: HTTPMessage, timeout: float
) -> Attempt:
    """One attempt, never longer than `timeout` seconds in all (httpx's own timeouts are per phase)."""
    started = time.perf_counter()
    refused = await guard.refusal(url)
    if refused is not None:
        return Attempt(None, (time.perf_counter() - started) * 1000, f"refused address: {refused}")
    try:
        async with asyncio.timeout(timeout):
            response = await client.post(url, content=message.body, headers=message.headers)
    except TimeoutError:
        return Attempt(None, (time.perf_counter() - started) * 1000, f"timed out after {timeout} s")
    except httpx.HTTPError as error:
        return Attempt(None, (time.perf_counter() - started) * 1000, f"{type(error).__name__}: {error}"[:500])
    latency = (time.perf_counter() - started) * 1000
    failure = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    # An HTTP-date in Retry-After is on the receiver's clock: real time, not the service clock.
    return Attempt(
        response.status_code,
        latency,
        failure,
        parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC)),
    )
