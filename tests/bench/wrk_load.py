"""Driving an app with wrk (Debian's HTTP benchmarking tool): one bounded run, and what it
measured, for ``bench_service``."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("form_posts.lua")

WRK_TIMEOUT_GRACE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What wrk measured for one app and workload."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    acked: int
    non_ok: int
    errors: int
    acked_keys: list[str]
    cpu_us_per_request: float = 0.0
    """CPU of the app's gunicorn (master and workers) per request answered, in µs."""
    machine_idle: float = 0.0
    """Share of the machine's CPU time left idle (waiting for disk included) during the run."""

    @property
    def throughput(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package when it is missing and we may."""
    found = shutil.which("wrk")
    if found:
        return found
    as_root: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    print("wrk not found: installing Debian's package (apt-get install wrk)", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
        subprocess.run([*as_root, *argv], env=environment, check=False, timeout=600)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed: install it (Debian: apt-get install wrk) and run again")
    return found


def run_wrk(
    wrk: str, url: str, workload: str, tag: str, options: argparse.Namespace, seconds: float
) -> LoadResult:
    """One bounded wrk run; one thread per connection so responses map to requests."""
    with tempfile.NamedTemporaryFile("r", suffix=".acked", delete=False) as acked_file:
        acked_path = Path(acked_file.name)
    argv = [
        wrk,
        f"--threads={options.connections}",
        f"--connections={options.connections}",
        f"--duration={seconds:g}s",
        "--timeout=10s",
        f"--script={LUA_SCRIPT}",
        url,
        "--",
        workload,
        tag,
        str(acked_path),
        str(options.redeliver_every),
    ]
    try:
        completed = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + WRK_TIMEOUT_GRACE_SECONDS,
        )
        summary = json.loads(completed.stdout.strip().splitlines()[-1])
        keys = acked_path.read_text().split()
    finally:
        acked_path.unlink(missing_ok=True)
    errors = sum(summary[name] for name in summary if name.startswith("errors_"))
    return LoadResult(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        acked=summary["acked"],
        non_ok=summary["non_ok"],
        errors=errors,
        acked_keys=keys,
    )
