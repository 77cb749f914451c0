"""One system (intake, pathway, notifications as processes) shared by this folder's tests, with retry,
breaker and lease timings in fractions of a second; each test uses practices and subscribers of its own."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from deploy.local import LocalSystem
from deploy.receiver import ReceiverProcess
from tests.conftest import created_database
from tests.e2e.conftest import running_system

FAST = {
    "RETRY_BASE_SECONDS": "0.3",
    "RETRY_CAP_SECONDS": "1.0",
    "RETRY_MAX_ATTEMPTS": "60",
    "BREAKER_FAILURE_THRESHOLD": "3",
    "BREAKER_PROBE_SECONDS": "0.5",
    "DELIVERY_TIMEOUT_SECONDS": "2",
    "LANE_LEASE_SECONDS": "3",
}


@pytest.fixture(scope="module")
async def module_database(infrastructure) -> AsyncIterator[str]:
    async with created_database(infrastructure.database_url, "rgnotif") as url:
        yield url


@pytest.fixture(scope="module")
def system(module_database, infrastructure, tmp_path_factory) -> Iterator[LocalSystem]:
    run_dir = tmp_path_factory.mktemp("notifications-e2e")
    with running_system(
        module_database, infrastructure.bootstrap, run_dir, ("intake", "pathway", "notifications"), **FAST
    ) as started:
        yield started


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def agb() -> str:
    """A practice AGB code of this test's own."""
    return f"04{random.randrange(10**6):06d}"
