"""`./ruggengraat up` as a user runs it: it starts the system on embedded defaults, prints its URLs, database,
broker and a token per role; `replay` finds it by itself; Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from deploy.local import ROOT, SERVICES, STATE_FILE
from shared.auth import Role

pytestmark = pytest.mark.e2e


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def processes_of(text: str) -> set[int]:
    """Processes whose command line names `text` (the embedded PostgreSQL detaches from its starter)."""
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.add(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_up_prints_what_to_use_is_found_by_replay_and_stops_everything_on_ctrl_c(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    env["RUGGENGRAAT_RUN_DIR"] = str(tmp_path)
    up = subprocess.Popen(
        [sys.executable, "-m", "deploy.cli", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(up.stdout), daemon=True)
    reader.start()
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        while not any(line.startswith("logs:") for line in lines):
            assert up.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        text = "".join(lines)
        urls = dict(re.findall(r"^(\w+)\s+(http://127\.0\.0\.1:\d+)\s", text, re.M))
        exported = dict(re.findall(r"^export (\w+)='?([^'\s]+)'?", text, re.M))
        assert set(SERVICES) <= set(urls)
        assert {f"{role.value.upper()}_TOKEN" for role in Role} <= set(exported)  # a token for every role
        assert exported["DATABASE_URL"].startswith("postgresql://")
        assert re.fullmatch(r"127\.0\.0\.1:\d+", exported["KAFKA_BOOTSTRAP_SERVERS"])

        escalations = f"{urls['pathway']}/v1/escalations"
        assert httpx.get(escalations).status_code == 401
        answer = httpx.get(escalations, headers={"authorization": f"Bearer {exported['PRACTICE_TOKEN']}"})
        assert answer.status_code == 200, answer.text

        replay = subprocess.run(
            [sys.executable, "-m", "deploy.cli", "replay", "pathway"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert replay.returncode == 0 and "replayed 0 events into the pathway read model" in replay.stdout, replay

        pg_host = re.search(r"host=([^&\s]+)", exported["DATABASE_URL"])
        started = descendants(up.pid) | (processes_of(pg_host.group(1)) if pg_host else set())
        assert len(started) >= 6  # the broker, four services and PostgreSQL at least
        assert (tmp_path / STATE_FILE).exists()

        up.send_signal(signal.SIGINT)
        assert up.wait(90) == 0
        reader.join(5)
        assert "stopped every process" in "".join(lines)
        assert not (tmp_path / STATE_FILE).exists()
        deadline = time.monotonic() + 10
        while (left := {pid for pid in started if alive(pid)}) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"still running after Ctrl-C: {left}"
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            try:
                up.wait(60)
            except subprocess.TimeoutExpired:
                up.kill()
                up.wait(10)
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
