"""Where the machine's CPU went during a scenario, second by second: each service's workers, the broker,
PostgreSQL, the webhook receiver, the campaign itself (the load) and everything else on the machine.

A latency spike on two cores is most often a queue behind a busy CPU; with this beside the latency of every
5-second window, a run says which part was busy when intake answered slowly (`at_worst_latency`), and whether
it was the system at all ("other": processes this campaign did not start).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import psutil

# How a process this campaign started is named from its command line, first match wins.
_GROUPS = [
    (re.compile(r"services\.(\w+)"), None),  # the service's own name
    (re.compile(r"tansu|calfkit"), "broker"),
    (re.compile(r"deploy\.receiver"), "receiver"),
]


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy since it booted (every core; idle and I/O wait left out)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class CpuWatch:
    """Call `sample(at)` about once a second; `series` holds (at, {part: cores used since the last sample})."""

    def __init__(self, postgres_data_dir: Path | None = None) -> None:
        self.postgres_data_dir = postgres_data_dir
        self.me = psutil.Process(os.getpid())
        self.series: list[tuple[float, dict[str, float]]] = []
        self._seen: dict[int, tuple[str, float]] = {}  # pid → (part, cpu seconds so far)
        self._machine = _machine_busy()
        self._last_at: float | None = None
        self.sample(0.0)

    def _postgres(self) -> list[psutil.Process]:
        if self.postgres_data_dir is None:
            return []
        try:
            pid = int((self.postgres_data_dir / "postmaster.pid").read_text().split()[0])
            postmaster = psutil.Process(pid)
            return [postmaster, *postmaster.children()]
        except (OSError, ValueError, IndexError, psutil.Error):
            return []  # stopped (that may be the fault)

    def _parts(self) -> Iterable[tuple[psutil.Process, str]]:
        yield self.me, "campaign"
        for process in self.me.children(recursive=True):
            try:
                command = " ".join(process.cmdline())
            except psutil.Error:
                continue
            for pattern, name in _GROUPS:
                if found := pattern.search(command):
                    yield process, name or found.group(1)
                    break
            else:
                yield process, "campaign"
        for process in self._postgres():
            yield process, "postgres"

    def sample(self, at: float) -> None:
        used: dict[str, float] = {}
        seen: dict[int, tuple[str, float]] = {}
        for process, part in self._parts():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total = times.user + times.system
            before = self._seen.get(process.pid)
            # A process first seen counts from now: what it used before this watch started is not this second's.
            used[part] = used.get(part, 0.0) + (total - before[1] if before and before[0] == part else 0.0)
            seen[process.pid] = (part, total)
        self._seen = seen
        machine = _machine_busy()
        if self._last_at is not None and at > self._last_at:
            elapsed = at - self._last_at
            ours = sum(used.values())
            parts = {part: round(seconds / elapsed, 2) for part, seconds in used.items()}
            parts["other"] = round(max(0.0, (machine - self._machine) - ours) / elapsed, 2)
            self.series.append((round(at, 1), parts))
        self._machine = machine
        self._last_at = at

    def mean(self, start: float = 0.0, end: float = float("inf")) -> dict[str, float]:
        """Cores each part used on average between `start` and `end` (seconds of the timeline), busiest first."""
        window = [parts for at, parts in self.series if start < at <= end]
        if not window:
            return {}
        names = {name for parts in window for name in parts}
        means = {name: round(sum(p.get(name, 0.0) for p in window) / len(window), 2) for name in names}
        return dict(sorted(means.items(), key=lambda item: -item[1]))


def summary(watch: CpuWatch, latency: dict[str, float], window: float = 5.0) -> dict[str, object]:
    """The whole run's CPU by part, and the CPU during the 5-second window with the slowest median latency."""
    cores = psutil.cpu_count() or 1
    result: dict[str, object] = {"cores": cores, "mean": watch.mean()}
    if "worst_window_at" in latency:
        start = latency["worst_window_at"]
        result["at_worst_latency"] = watch.mean(start, start + window)
    return result


def describe(cpu: dict[str, object]) -> str:
    """One line: '… CPU then: reporting 0.9, postgres 0.5, other 0.3 of 2 cores'."""
    parts = cpu.get("at_worst_latency") or cpu.get("mean") or {}
    assert isinstance(parts, dict)
    busiest = ", ".join(f"{name} {cores:g}" for name, cores in list(parts.items())[:4] if cores > 0)
    return f"{busiest or 'nothing busy'} of {cpu.get('cores')} cores"
