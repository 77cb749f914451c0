"""The demo run twice with one seed: the same counts both times (the pathway settles before and after each move
of the clock, so no evaluation races its timer), and each run starts with fresh logs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.local import ROOT

pytestmark = pytest.mark.e2e


def run_demo(run_root: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    env["RUGGENGRAAT_RUN_DIR"] = str(run_root)
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "demo", "--exit", "--patients", "12", "--seed", "7"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "every process stopped" in done.stdout
    assert re.search(r"operator's page +http://127\.0\.0\.1:\d+/operations\n", done.stdout)  # where to look
    return done.stdout


def counts(output: str) -> str:
    """The summary's tables: from the cohort's profiles to the letters."""
    start = output.index("The cohort (generated from the seed)")
    return output[start : output.index("Letters to the GP", start)]


def test_the_same_seed_gives_the_same_counts_and_each_run_fresh_logs(tmp_path):
    first = run_demo(tmp_path)
    assert "EvaluationDue" in counts(first) and "EvaluationCompleted" in counts(first)
    log = tmp_path / "demo" / "intake.log"
    log.write_text(log.read_text() + "\nLEFT BY THE FIRST RUN\n")

    second = run_demo(tmp_path)
    assert counts(second) == counts(first)
    assert "LEFT BY THE FIRST RUN" not in log.read_text()
