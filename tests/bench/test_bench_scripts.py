"""The quick benchmarks still run and print their figures (small sizes; no figure is judged).

Benchmarks run on demand, so one that breaks is otherwise noticed only when someone needs
it. ``bench_service`` and ``bench_simulator`` start servers and load them for minutes; these
three take seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.e2e.processes import REPO_ROOT

FIGURE = r"\s+[\d.]+ µs/"


@pytest.mark.parametrize(
    ("module", "arguments", "rows"),
    [
        (
            "bench_store",
            ["--events", "64"],
            [rf"append, batches of\s+64\s+cpu{FIGURE}", rf"append from 64 requests\s+cpu{FIGURE}"],
        ),
        (
            "bench_commit_queue",
            ["--items", "320", "--write-ms", "0.2"],
            [rf"commit queue\s+cpu{FIGURE}", r"batches: \d+"],
        ),
        (
            "bench_apps_inprocess",
            ["--requests", "100"],
            [
                rf"events\s+baseline\s+cpu{FIGURE}",
                rf"instruct\s+service without its store\s+cpu{FIGURE}",
            ],
        ),
    ],
)
def test_benchmark_runs_and_prints_its_rows(
    module: str, arguments: list[str], rows: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"tests.bench.{module}", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for row in rows:
        assert re.search(row, done.stdout), (row, done.stdout)
