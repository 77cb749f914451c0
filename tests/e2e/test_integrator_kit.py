"""The integrator's test kit and the load test, run as an integrator and an installation's operator run them:
the example GP system's suite (examples/integrator) passes on a system the kit starts itself and on one already
running (URLs from the environment), and a short headless Locust run (deploy/load/locustfile.py) against the
local system covers the whole mix without one failed request."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from deploy.local import LocalSystem, stop_process
from tests.conftest import created_database
from tests.e2e.conftest import running_system

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ["-m", "pytest", "examples/integrator", "-q", "-p", "no:cacheprovider"]


def run(args: list[str], env: dict[str, str], log: Path, timeout: float) -> tuple[int, str]:
    """Run a command in a process group of its own; its exit code and output. Past `timeout` it is interrupted
    (SIGINT: pytest then tears its fixtures down, stopping what it started), and then stopped."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                stop_process(process)
            code = -1
    return code, log.read_text(errors="replace")


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without any RUGGENGRAAT_* (each run says which system it means), plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("RUGGENGRAAT_")}, **extra}


def urls_of(system: LocalSystem) -> dict[str, str]:
    return {f"RUGGENGRAAT_{name.upper()}_URL": system.url(name) for name in system.services}


@pytest.fixture(scope="module")
async def kit_database(infrastructure) -> AsyncIterator[str]:
    async with created_database(infrastructure.database_url, "rgkit") as url:
        yield url


@pytest.fixture(scope="module")
def running(kit_database, infrastructure, tmp_path_factory) -> Iterator[LocalSystem]:
    """A system already running, as an integrator's CI or an installation would have it."""
    with running_system(kit_database, infrastructure.bootstrap, tmp_path_factory.mktemp("kit-running")) as system:
        yield system


async def test_the_example_suite_passes_on_a_system_the_kit_starts(fresh_database, infrastructure, tmp_path):
    # the kit takes PostgreSQL and the broker as the project's tests do: here from the environment
    env = environment(DATABASE_URL=fresh_database, KAFKA_BOOTSTRAP_SERVERS=infrastructure.bootstrap)
    code, output = run(EXAMPLE, env, tmp_path / "example.log", timeout=300)
    assert code == 0, output
    assert "2 passed" in output, output


def test_the_example_suite_passes_against_a_system_running_elsewhere(running, tmp_path):
    code, output = run(EXAMPLE, environment(**urls_of(running)), tmp_path / "example.log", timeout=300)
    assert code == 0, output
    assert "2 passed" in output, output


def test_a_short_headless_load_run_has_no_failed_request(running, tmp_path):
    report = tmp_path / "load"
    args = ["-m", "locust", "-f", "deploy/load/locustfile.py", "--headless", "--users", "10", "--spawn-rate", "10"]
    args += ["--run-time", "15s", "--csv", str(report), "--html", str(tmp_path / "load.html"), "--only-summary"]
    code, output = run(args, environment(**urls_of(running)), tmp_path / "locust.log", timeout=120)
    assert code == 0, output  # Locust exits 1 when any request failed

    with (tmp_path / "load_stats.csv").open() as stats:
        rows = {(row["Type"], row["Name"]): row for row in csv.DictReader(stats)}
    assert int(rows[("", "Aggregated")]["Failure Count"]) == 0
    assert int(rows[("", "Aggregated")]["Request Count"]) > 100
    names = {name for _, name in rows}
    for command in ("history", "assessment", "measurements", "treatment-plan", "sessions"):
        assert f"/v1/episodes/[id]/{command}" in names, sorted(names)
    for expected in ("/v1/referrals", "/v1/referrals (FHIR)", "/v1/subscriptions/[id]/events", "ReferralReceived"):
        assert expected in names, sorted(names)
    assert (tmp_path / "load.html").stat().st_size > 10_000
