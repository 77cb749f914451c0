"""Where the CPU went during a benchmark: seconds of CPU per process group between two snapshots."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping

import psutil


def snapshot(labels: Mapping[int, str]) -> dict[str, float]:
    """CPU seconds (user + system) so far per group: the given pids (with their children), PostgreSQL
    backends, and this process (the load generator)."""
    totals: dict[str, float] = defaultdict(float)
    me = os.getpid()
    for process in psutil.process_iter(["pid", "ppid", "name"]):
        try:
            label = _label(process, labels, me)
            if label is None:
                continue
            times = process.cpu_times()
            totals[label] += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return dict(totals)


def _label(process: psutil.Process, labels: Mapping[int, str], me: int) -> str | None:
    if process.pid == me:
        return "load generator"
    if process.info["name"] in ("postgres", "postmaster"):
        return "postgres"
    for candidate in [process, *process.parents()]:
        if candidate.pid in labels:
            return labels[candidate.pid]
    return None


def _per_group(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds each group used between two snapshots."""
    return {label: after.get(label, 0.0) - before.get(label, 0.0) for label in after}


def used(before: dict[str, float], after: dict[str, float]) -> float:
    """CPU seconds all groups used between two snapshots."""
    return sum(_per_group(before, after).values())


def report(before: dict[str, float], after: dict[str, float], seconds: float) -> list[str]:
    """One line per group: CPU seconds used and the share of one core, busiest first."""
    lines = []
    for label, cpu in sorted(_per_group(before, after).items(), key=lambda item: -item[1]):
        lines.append(f"    {label:<16} {cpu:7.1f} s CPU   {100 * cpu / seconds:5.0f} % of one core")
    total = used(before, after)
    lines.append(f"    {'all':<16} {total:7.1f} s CPU   {100 * total / seconds:5.0f} % of one core")
    return lines
