"""Starting the kit's real server processes for end-to-end tests, and stopping them.

Every process binds a free loopback port, is waited for until it answers, and is stopped
(SIGTERM, then SIGKILL) when the test ends, so no test leaves a server behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningProcess:
    """A started server: its process, base URL and captured output file."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")


def wait_until_ready(running: RunningProcess, path: str, timeout: float) -> None:
    """Poll ``path`` until it answers 200; fail with the process log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(
                f"process exited with {running.process.returncode}:\n{running.log()}"
            )
        try:
            if requests.get(running.url + path, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"process not ready after {timeout}s:\n{running.log()}")


def child_pids(pid: int) -> list[int]:
    """The direct children of process ``pid`` (Linux), e.g. gunicorn's workers."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in text.split()]


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL everything left in the process's group (it was started in its own session)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=15)


def stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left (of a process that is gone
    already, what is left of its group: a killed gunicorn master's workers)."""
    if process.poll() is not None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


@contextmanager
def running(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    url: str,
    ready_path: str,
    log_path: Path,
    timeout: float = STARTUP_TIMEOUT_SECONDS,
) -> Iterator[RunningProcess]:
    """Run ``argv`` in its own process group until the block ends."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(argv),
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    started = RunningProcess(process, url, log_path)
    try:
        wait_until_ready(started, ready_path, timeout)
        yield started
    finally:
        stop(process)


def run_until_exit(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float = 60.0
) -> tuple[int, str]:
    """Run ``argv`` (expected to stop by itself); return its exit status and what it wrote.

    It runs in its own process group, killed whole however this ends: a server that
    starts instead of failing leaves no worker behind.
    """
    process = subprocess.Popen(
        list(argv),
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{argv[2:]} still running after {timeout}s") from exc
    finally:
        kill_group(process)
    return process.returncode, output.decode(errors="replace")


def gunicorn_argv(port: int, *extra: str) -> list[str]:
    """The production command line, on ``port``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:at_voice_kit.service.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        *extra,
        "at_voice_kit.service.app:create_app()",
    ]


def service_environment(database_url: str, **extra: str) -> dict[str, str]:
    """Settings for a service that places no calls (AT's URL points at a closed port)."""
    return {
        "AT_USERNAME": "sandbox",
        "AT_API_KEY": "e2e",
        "AT_VOICE_NUMBER": "+254711082000",
        "AT_VOICE_URL": f"http://127.0.0.1:{free_port()}",
        "DATABASE_URL": database_url,
        **extra,
    }


def readiness(url: str) -> int:
    """The status of the service's readiness probe, on a connection of its own (so that
    successive probes reach different gunicorn workers)."""
    return requests.get(f"{url}/voice/", timeout=15, headers={"Connection": "close"}).status_code


def wait_for_readiness(url: str, status: int, timeout: float = 30, *, in_a_row: int = 1) -> None:
    """Probe until readiness answers ``status`` ``in_a_row`` times running (probes land on any
    worker, and each worker judges readiness for itself); fail if that never happens within
    ``timeout``."""
    deadline = time.monotonic() + timeout
    running = 0
    while time.monotonic() < deadline:
        running = running + 1 if readiness(url) == status else 0
        if running >= in_a_row:
            return
        time.sleep(0.1 if running == 0 else 0)
    raise AssertionError(f"readiness never answered {status} {in_a_row} times in a row")


def wait_for_log(service: RunningProcess, text: str, count: int, timeout: float = 30) -> None:
    """Wait until ``text`` appears ``count`` times in the service's output."""
    deadline = time.monotonic() + timeout
    while service.log().count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not logged {count} times"
        assert service.process.poll() is None, service.log()
        time.sleep(0.05)
