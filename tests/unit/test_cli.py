"""The command line without a running system: arguments reach pytest, the apt packages the tests need, the
program's name in its help, finding the system `up` or `demo` runs, and the demo's URLs printed whole."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from deploy import cli
from deploy.demo import Demo
from deploy.local import (
    ROOT,
    SERVICES,
    STATE_FILE,
    AlreadyRunning,
    LocalSystem,
    ServiceProcess,
    find_running,
    launched,
)

runner = CliRunner()


@pytest.fixture
def run_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RUGGENGRAAT_RUN_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


def write_state(root: Path, pid: int, database_url: str = "postgresql://nobody@127.0.0.1:1/x") -> None:
    state = {"pid": pid, "command": "up", "database_url": database_url, "bootstrap": "127.0.0.1:1", "urls": {}}
    (root / STATE_FILE).write_text(json.dumps(state))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_every_argument_after_test_reaches_pytest(monkeypatch):
    called = []
    monkeypatch.setattr(cli, "ensure_test_programs", lambda: None)
    monkeypatch.setattr(cli.subprocess, "call", lambda command, **kwargs: called.append(command) or 0)
    result = runner.invoke(cli.app, ["test", "-k", "relay", "-x", "--maxfail=2", "tests/unit"])
    assert result.exit_code == 0, result.output
    assert called == [[sys.executable, "-m", "pytest", "-k", "relay", "-x", "--maxfail=2", "tests/unit"]]


def test_the_test_command_installs_only_the_missing_packages_it_names(monkeypatch, tmp_path):
    programs = {tmp_path / "chromium": "chromium", tmp_path / "pdftoppm": "poppler-utils"}
    monkeypatch.setattr(cli, "TEST_PROGRAMS", programs)
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli.shutil, "which", lambda name: f"/usr/bin/{name}")
    ran = []
    monkeypatch.setattr(cli.subprocess, "run", lambda command, **kwargs: ran.append(command))
    out = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=out, width=200))
    cli.ensure_test_programs()
    assert ran == [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "--no-upgrade", "chromium", "poppler-utils"],
    ]
    assert "installing with apt-get" in out.getvalue() and "chromium poppler-utils" in out.getvalue()

    ran.clear()
    (tmp_path / "chromium").touch()
    cli.ensure_test_programs()
    assert ran[1][-1] == "poppler-utils" and "chromium" not in ran[1]
    (tmp_path / "pdftoppm").touch()
    ran.clear()
    cli.ensure_test_programs()
    assert ran == []


@pytest.mark.parametrize("args", [["--help"], ["guideline", "evaluate", "--help"]])
def test_help_screens_name_the_script(args):
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "Usage: ./ruggengraat" in result.stdout and "deploy.cli" not in result.stdout


def test_a_running_system_is_found_by_its_state_file_while_its_process_lives(run_root):
    assert find_running() is None
    write_state(run_root, os.getpid())
    assert find_running()["pid"] == os.getpid()
    write_state(run_root, dead_pid())
    assert find_running() is None
    (run_root / STATE_FILE).write_text("{not json")
    assert find_running() is None


@pytest.mark.parametrize("command", [["replay", "pathway"], ["retention-due"]])
def test_without_a_running_system_the_commands_say_so_in_one_line(run_root, command):
    result = runner.invoke(cli.app, command)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "no running system found: start one with `./ruggengraat up` (or set DATABASE_URL)"
    ]


@pytest.mark.parametrize("command", [["replay", "pathway"], ["retention-due"]])
def test_a_database_that_does_not_answer_is_one_line(run_root, command):
    write_state(run_root, os.getpid())  # a system that runs, on a database nobody listens on
    result = runner.invoke(cli.app, command)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("the database cannot answer:"), result.output


def test_a_second_system_is_refused_while_one_runs_and_its_logs_are_left_alone(run_root):
    write_state(run_root, os.getpid())
    logs = run_root / "up"
    logs.mkdir()
    (logs / "intake.log").write_text("earlier")
    with pytest.raises(AlreadyRunning, match=r"`./ruggengraat up` \(pid \d+\) is running"), launched("up", logs):
        pass
    assert (logs / "intake.log").read_text() == "earlier"
    result = runner.invoke(cli.app, ["up"])
    assert result.exit_code == 1 and "is running; stop it first" in result.output


def test_the_demo_prints_every_url_whole_on_a_narrow_terminal(tmp_path):
    out = io.StringIO()
    demo = Demo(Console(file=out, width=40), tmp_path)
    demo.episode = "0b5c3a6e-4a47-4d0e-9d7e-6f3d2f1c9a11"
    system = LocalSystem("postgresql://x", "127.0.0.1:1", tmp_path)
    system.services = {name: ServiceProcess(name, 8001 + n, {}, tmp_path / "x.log") for n, name in enumerate(SERVICES)}
    demo.where_to_look(system)
    text = out.getvalue()
    for url in (
        "http://127.0.0.1:8001/docs",
        f"http://127.0.0.1:8002/v1/episodes/{demo.episode}",
        "http://127.0.0.1:8003/v1/network/practices/04123456/visitation?year=",
        "http://127.0.0.1:8003/network",
    ):
        assert url in text
    assert "…" not in text


def test_the_script_hands_every_argument_to_the_cli_unchanged(tmp_path):
    """`./ruggengraat test -k "relay and not slow"` reaches the CLI as typed (a stand-in for the venv's python)."""
    import hashlib
    import shutil

    for name in ("ruggengraat", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    pins = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes())
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / f".installed-{pins.hexdigest()[:16]}").touch()  # installed: the script only runs the CLI
    python = venv / "bin" / "python"
    python.write_text("#!/bin/sh\nprintf '%s\\n' \"$@\"\n")
    python.chmod(0o755)
    done = subprocess.run(
        ["bash", str(tmp_path / "ruggengraat"), "test", "-k", "relay and not slow", "-x"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == ["-m", "deploy.cli", "test", "-k", "relay and not slow", "-x"]
