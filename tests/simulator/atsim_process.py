"""``atsim serve`` as a real process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 20.0
_URL = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@dataclass(frozen=True)
class AtsimProcess:
    """A running ``atsim serve``: its process, base URL and start-up banner."""

    process: subprocess.Popen[str]
    url: str
    banner: str


def atsim_command() -> list[str]:
    """The ``atsim`` console script installed next to this interpreter."""
    script = Path(sys.executable).parent / "atsim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "simulator.cli"]


@contextmanager
def atsim_serve(*args: str) -> Iterator[AtsimProcess]:
    """Start ``atsim serve --port 0 ARGS``, wait for its banner, stop it (SIGTERM) at the end."""
    process = subprocess.Popen(
        [*atsim_command(), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    banner: list[str] = []
    try:
        while True:
            line = lines.get(timeout=START_TIMEOUT_SECONDS)
            if line is None:
                stderr = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"atsim serve exited early: {''.join(banner)}{stderr}")
            banner.append(line)
            if "admin API:" in line:
                break
        match = _URL.search("".join(banner))
        assert match is not None, banner
        yield AtsimProcess(process, match.group(1), "".join(banner))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
