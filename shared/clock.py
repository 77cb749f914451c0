"""The one injectable clock: real time in production, controllable time in tests and the demo."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; for unit and in-process integration tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


class OffsetFileClock:
    """Real time plus an offset in seconds read from a file.

    Several service processes share one file, so a demo or an end-to-end test moves time for the whole
    system at once (twelve weeks in seconds) without any service exposing a way to change its clock.
    The file is re-read only when it changed, so `now()` stays cheap. `write_offset` replaces the file, so
    every write gives it a new inode: two writes within one mtime tick are still both noticed.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._version: tuple[int, int] | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        try:
            stat = os.stat(self._path)
            version: tuple[int, int] | None = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            version = None
            self._offset = timedelta(0)
        if version is not None and version != self._version:
            text = self._path.read_text().strip()
            self._offset = timedelta(seconds=float(text or 0))
        self._version = version
        return datetime.now(UTC) + self._offset

    @staticmethod
    def write_offset(path: Path, offset: timedelta) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{offset.total_seconds()}\n")
        os.replace(tmp, path)
