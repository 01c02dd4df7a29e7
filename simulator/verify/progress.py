"""The live progress line of ``atsim verify`` (standard error, on a terminal or on request)."""

from __future__ import annotations

import shutil
import time
from typing import Protocol, TextIO

from at_voice_kit.simulator.verify.checks import Severity
from at_voice_kit.simulator.verify.results import ScenarioResult


class Progress(Protocol):
    """Told about each finished scenario while a verification runs."""

    def planned(self, count: int) -> None:
        """``count`` more scenarios are about to run."""
        ...

    def finished(self, result: ScenarioResult) -> None:
        """One scenario finished."""
        ...

    def close(self) -> None:
        """The run is over: clear the line."""
        ...


class NoProgress:
    """Shows nothing (the library's default)."""

    def planned(self, count: int) -> None:
        """Nothing to show."""

    def finished(self, result: ScenarioResult) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to clear."""


class ProgressLine:
    """One line, rewritten in place at most ten times a second:
    ``[ 37/120] 2 errors  crawl/outbound/1-2``."""

    MIN_INTERVAL = 0.1

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0
        self.errors = 0
        self.warnings = 0
        self._last_write = 0.0
        self._shown = False

    def planned(self, count: int) -> None:
        """Grow the total."""
        self.total += count

    def finished(self, result: ScenarioResult) -> None:
        """Count the scenario and redraw (throttled)."""
        self.done += 1
        for finding in result.findings:
            if finding.severity is Severity.ERROR:
                self.errors += 1
            else:
                self.warnings += 1
        now = time.monotonic()
        if now - self._last_write >= self.MIN_INTERVAL or self.done == self.total:
            self._last_write = now
            self._draw(result.id)

    def _draw(self, current: str) -> None:
        width = shutil.get_terminal_size((100, 20)).columns - 1
        counts = f"{self.errors} failed checks" if self.errors else "no failures"
        if self.warnings:
            counts += f", {self.warnings} warnings"
        text = f"atsim verify [{self.done:>4}/{self.total}] {counts}  {current}"
        self.stream.write("\r\x1b[K" + text[:width])
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Erase the line so the report starts on a clean line."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
