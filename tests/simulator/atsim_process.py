"""``atsim serve`` as a real process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_SECONDS = 20.0
_URL = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@dataclass(frozen=True)
class AtsimProcess:
    """A running ``atsim serve``: its process, base URL and start-up banner."""

    process: subprocess.Popen[str]
    url: str
    banner: str
    stderr_lines: list[str]
    """What the process wrote to stderr so far (drained continuously, so it never blocks)."""
    stdout_after_banner: list[str] = field(default_factory=list)
    """What the process wrote to stdout after its banner so far (its log of calls)."""

    def stderr(self) -> str:
        """Everything written to stderr so far."""
        return "".join(self.stderr_lines)

    def stdout_lines(self) -> list[str]:
        """The lines written to stdout after the banner so far."""
        return list(self.stdout_after_banner)

    def all_output(self) -> list[str]:
        """Every line written after the banner, standard output and error."""
        return [*self.stdout_after_banner, *self.stderr_lines]


def atsim_command() -> list[str]:
    """The ``atsim`` console script installed next to this interpreter."""
    script = Path(sys.executable).parent / "atsim"
    return (
        [str(script)] if script.exists() else [sys.executable, "-m", "at_voice_kit.simulator.cli"]
    )


@contextmanager
def atsim_serve(*args: str, env: Mapping[str, str] | None = None) -> Iterator[AtsimProcess]:
    """Start ``atsim serve --port 0 ARGS`` (``env`` added to the environment), wait for its
    banner, stop it (SIGTERM) at the end."""
    process = subprocess.Popen(
        [*atsim_command(), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines: queue.Queue[str | None] = queue.Queue()
    after_banner: list[str] = []
    banner_read = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if banner_read.is_set():
                after_banner.append(line)
            else:
                lines.put(line)
        lines.put(None)

    stderr_lines: list[str] = []

    def pump_stderr() -> None:
        assert process.stderr is not None
        stderr_lines.extend(iter(process.stderr.readline, ""))

    threading.Thread(target=pump, daemon=True).start()
    stderr_pump = threading.Thread(target=pump_stderr, daemon=True)
    stderr_pump.start()
    banner: list[str] = []
    try:
        while True:
            line = lines.get(timeout=START_TIMEOUT_SECONDS)
            if line is None:
                stderr_pump.join(timeout=START_TIMEOUT_SECONDS)
                stderr = "".join(stderr_lines)
                raise RuntimeError(f"atsim serve exited early: {''.join(banner)}{stderr}")
            banner.append(line)
            if "admin API:" in line:
                banner_read.set()
                break
        match = _URL.search("".join(banner))
        assert match is not None, banner
        yield AtsimProcess(process, match.group(1), "".join(banner), stderr_lines, after_banner)
    finally:
        stop(process, signal.SIGTERM, grace=10)
        stderr_pump.join(timeout=START_TIMEOUT_SECONDS)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def stop(process: subprocess.Popen[str], sig: signal.Signals, grace: float) -> None:
    """Send ``sig`` to a process still running and wait ``grace`` seconds for it to stop as
    it does on that signal; then kill it."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass(frozen=True)
class ProcessStats:
    """What /proc says about a process: memory now and at its peak, open descriptors."""

    rss_kib: int
    peak_rss_kib: int
    open_fds: int
    threads: int


def process_stats(pid: int) -> ProcessStats:
    """Read ``/proc/{pid}`` (Linux): RSS, peak RSS (VmHWM), open file descriptors, threads."""
    fields: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return ProcessStats(
        rss_kib=int(fields["VmRSS"].split()[0]),
        peak_rss_kib=int(fields["VmHWM"].split()[0]),
        open_fds=len(list(Path(f"/proc/{pid}/fd").iterdir())),
        threads=int(fields["Threads"]),
    )
