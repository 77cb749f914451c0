"""End-to-end fixtures: the four services as separate processes, and a webhook receiver process."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, async_playwright

from deploy.local import SERVICES, LocalSystem, dev_headers, free_port, stop_process, wait_for_port
from tests.conftest import unique

CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by the test command when missing
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def page_token(role: str, org: str) -> str:
    """A development token as a user pastes it into a page (or gives it in `?token=`)."""
    return dev_headers(role, org, user="coordinator")["authorization"].removeprefix("Bearer ")


@pytest.fixture
async def chromium() -> AsyncIterator[BrowserContext]:
    """Headless Chromium driven by Playwright, on a profile of the test's own; closed and removed afterwards."""
    profile = tempfile.mkdtemp(prefix="rg-chromium-")
    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1800},
            )
            try:
                yield context
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def running_system(
    database_url: str, bootstrap: str, run_dir: Path, services: tuple[str, ...] = SERVICES, **env: str
) -> Iterator[LocalSystem]:
    """The given services (all four by default) as processes, on topics of their own; stopped afterwards."""
    system = LocalSystem(database_url, bootstrap, run_dir, extra_env={"KAFKA_TOPIC_PREFIX": unique("e2e") + ".", **env})
    try:
        system.start(services)
        yield system
    finally:
        system.stop()


class Receiver:
    """A GP system's webhook endpoint, as its own process (deploy/receiver.py)."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.receiver", "--port", str(self.port)],
            stdout=open(log_path, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port, 20)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self, **config) -> None:
        httpx.put(f"{self.url}/_config", json=config).raise_for_status()

    def received(self) -> dict:
        return httpx.get(f"{self.url}/_received").json()

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    r = Receiver(tmp_path / "receiver.log")
    try:
        yield r
    finally:
        r.stop()
