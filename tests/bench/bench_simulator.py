"""Benchmark: the simulator's figures, on demand (not collected by pytest).

    python -m tests.bench.bench_simulator [--database sqlite|postgres] [--sim-parts fast live]
        [--sim-calls 2000] [--sim-rounds 2] [--sim-live-calls 10000] [--sim-timeout 600]

Two figures, each measured against real processes on loopback:

- **fast**: complete calls per second of ``atsim serve --speed fast`` driving an app through
  whole calls (the first callback request, the flow, the final request, the lifecycle events
  on the events URL), for the service under gunicorn (its default welcome flow) and, in the
  same run, for the baseline (``tests/bench/baseline_app.py``: the same routes and answers,
  no work, the same gunicorn settings). The ratio is what the service costs; the CPU each side
  spent per call shows what the simulator itself costs. A fresh ``atsim`` runs every round,
  rounds alternate the apps, and each app's best round counts (interference only slows).
  Every call must end ``Success`` with every webhook answered 200, and the service must have
  stored every webhook of every call (read back from its database).
- **live**: memory per live call of ``atsim serve`` in real time with 10,000 calls live at
  once (:mod:`tests.bench.bench_live_calls`), and whether its admin API still answers.

``python -m tests.bench.bench_service`` runs these too, after its own comparison, on the
same two apps. Every wait is bounded (``--sim-timeout``); every process started is stopped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from at_voice_kit.simulator.client.remote import SimulatorClient
from tests.bench.bench_service import BenchContext, database, start_apps
from tests.bench.process_usage import cpu_seconds, gunicorn_cpu_seconds
from tests.e2e.processes import REPO_ROOT
from tests.simulator.atsim_process import AtsimProcess, atsim_serve

AT_NUMBER = "+254711082000"
ACCOUNT_BALANCE = "100000000.00"
CALLS_PER_REQUEST = 250
"""Phone numbers per ``/call`` request (AT's ``to`` is comma-separated)."""
WARMUP_CALLS = 50
FIRST_SEED = int(time.time()) % 1_000_000
"""Seeds (so session ids) differ between runs, and between benchmarks on one database."""
POLL_SECONDS = 0.05
PARTS = ("fast", "live")


def add_simulator_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--sim-*`` options, shared by this script and ``bench_service``."""
    group = parser.add_argument_group("simulator figures")
    group.add_argument(
        "--sim-parts",
        nargs="*",
        choices=PARTS,
        default=list(PARTS),
        help="which simulator figures to measure (none: skip them)",
    )
    group.add_argument(
        "--sim-calls", type=int, default=2000, help="calls per app and round in --speed fast"
    )
    group.add_argument(
        "--sim-rounds", type=int, default=2, help="fast rounds per app (the best counts)"
    )
    group.add_argument(
        "--sim-live-calls", type=int, default=10_000, help="calls held live in real time"
    )
    group.add_argument(
        "--sim-timeout", type=float, default=600.0, help="seconds any one phase may take"
    )


def check_simulator_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse bounds that make no sense (a run must be bounded and measure something)."""
    if not 1 <= options.sim_calls <= 100_000 or not 1 <= options.sim_rounds <= 10:
        parser.error("--sim-calls must be 1..100000 and --sim-rounds 1..10")
    if not 100 <= options.sim_live_calls <= 50_000:
        parser.error("--sim-live-calls must be 100..50000")
    if not 0 < options.sim_timeout <= 3600:
        parser.error("--sim-timeout must be in (0, 3600] seconds")


# -- complete calls per second in --speed fast ------------------------------------------------


@dataclass(frozen=True, slots=True)
class FastRun:
    """One app driven through ``calls`` whole calls by a fresh ``atsim --speed fast``."""

    app: str
    calls: int
    seconds: float
    succeeded: int
    """Calls that ended ``Success`` (the app's flow ran to its end)."""
    webhooks: int
    webhooks_ok: int
    """Webhooks the app answered with a 2xx."""
    simulator_cpu: float
    app_cpu: float
    stored: int | None
    """Rows the service's database holds for these calls (``None``: not a storing app)."""

    @property
    def calls_per_second(self) -> float:
        """Whole calls completed per second of wall time."""
        return self.calls / self.seconds

    @property
    def complete(self) -> bool:
        """Every call succeeded, every webhook was answered 2xx, and stored if it stores."""
        all_ok = self.succeeded == self.calls and self.webhooks_ok == self.webhooks
        return all_ok and (self.stored is None or self.stored == self.webhooks)


def write_fast_config(path: Path, app_url: str) -> Path:
    """An ``atsim`` configuration: the AT number drives ``app_url``; every callee answers."""
    path.write_text(
        "accounts:\n"
        f'  - {{username: sandbox, apiKey: atsim-sandbox-key, balance: "{ACCOUNT_BALANCE}"}}\n'
        "numbers:\n"
        f'  - {{phoneNumber: "{AT_NUMBER}", callbackUrl: "{app_url}/voice/instruct",'
        f' eventsUrl: "{app_url}/voice/events"}}\n'
        "defaultCallee: {answer: answered}\n"
    )
    return path


def phone_users(count: int, first: int) -> list[str]:
    """``count`` distinct Kenyan mobile numbers from ``first``."""
    return [f"+2547{first + i:08d}" for i in range(count)]


def place_calls(sim: SimulatorClient, users: Sequence[str]) -> list[str]:
    """Queue a call to each user (batched ``/call`` requests); their session ids."""
    sessions: list[str] = []
    for start in range(0, len(users), CALLS_PER_REQUEST):
        answer = sim.place_call(AT_NUMBER, users[start : start + CALLS_PER_REQUEST])
        for entry in answer["entries"]:
            if entry["status"] != "Queued":
                raise RuntimeError(f"/call did not queue a call: {entry}")
            sessions.append(entry["sessionId"])
    return sessions


def wait_until_all_ended(sim: SimulatorClient, total: int, timeout: float) -> None:
    """Poll the admin API until ``total`` calls exist and none is live."""
    deadline = time.monotonic() + timeout
    while True:
        health = sim.admin("GET", "health")
        if health["calls"] >= total and health["liveCalls"] == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"calls still live after {timeout:g} s: {health}")
        time.sleep(POLL_SECONDS)


def journal_counts(sim: SimulatorClient, sessions: Sequence[str]) -> tuple[int, int, int]:
    """(calls that succeeded, webhooks sent, webhooks answered 2xx), from the journal."""
    succeeded = webhooks = answered = 0
    for session_id in sessions:
        call: dict[str, Any] = sim.admin("GET", f"calls/{session_id}")
        succeeded += (call.get("outcome") or {}).get("status") == "Success"
        webhooks += len(call["webhooks"])
        answered += sum(200 <= (hook["status"] or 0) < 300 for hook in call["webhooks"])
    return succeeded, webhooks, answered


def stored_rows(database_url: str, sessions: Sequence[str]) -> int:
    """How many events the service stored for ``sessions`` (callbacks and notifications)."""
    engine = sa.create_engine(database_url)
    query = sa.text("SELECT count(*) FROM call_events WHERE session_id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)
    )
    total = 0
    try:
        with engine.connect() as connection:
            for start in range(0, len(sessions), 500):
                batch = list(sessions[start : start + 500])
                total += int(connection.execute(query, {"ids": batch}).scalar_one())
    finally:
        engine.dispose()
    return total


def fast_run(
    context: BenchContext, app: str, calls: int, run_number: int, workdir: Path
) -> FastRun:
    """Drive ``app`` through ``calls`` whole calls with a fresh ``atsim --speed fast``.

    Each run has its own seed, hence its own session ids: the service must not take a later
    run's webhooks for redeliveries of an earlier one's (it would store them once).
    """
    options = context.options
    config = write_fast_config(workdir / f"atsim-{app}.yaml", context.urls[app])
    first_user = 1_000_000 * (1 + run_number)
    seed = str(FIRST_SEED + run_number)
    with (
        atsim_serve("--config", str(config), "--speed", "fast", "--seed", seed) as atsim,
        SimulatorClient(atsim.url, client=httpx.Client(timeout=60)) as sim,
    ):
        warm = place_calls(sim, phone_users(WARMUP_CALLS, first_user))
        wait_until_all_ended(sim, len(warm), options.sim_timeout)
        users = phone_users(calls, first_user + WARMUP_CALLS)
        sim_before, app_before = (
            cpu_seconds(atsim.process.pid),
            gunicorn_cpu_seconds(context.pids[app]),
        )
        started = time.perf_counter()
        sessions = place_calls(sim, users)
        wait_until_all_ended(sim, len(warm) + calls, options.sim_timeout)
        seconds = time.perf_counter() - started
        sim_spent = cpu_seconds(atsim.process.pid) - sim_before
        app_spent = gunicorn_cpu_seconds(context.pids[app]) - app_before
        succeeded, webhooks, answered = journal_counts(sim, sessions)
        check_quiet_stderr(atsim)
    stored = stored_rows(context.database_url, sessions) if app == "service" else None
    return FastRun(app, calls, seconds, succeeded, webhooks, answered, sim_spent, app_spent, stored)


def check_quiet_stderr(atsim: AtsimProcess) -> None:
    """A traceback in the simulator's log makes the figures worthless: stop there."""
    if "Traceback" in atsim.stderr():
        raise RuntimeError(f"atsim logged an error:\n{atsim.stderr()[-4000:]}")


def measure_fast_calls(context: BenchContext, workdir: Path) -> None:
    """Alternate the apps for ``--sim-rounds`` rounds; report each app's best round."""
    options = context.options
    best: dict[str, FastRun] = {}
    runs: list[FastRun] = []
    for round_number in range(options.sim_rounds):
        for index, app in enumerate(("baseline", "service")):
            print(
                f"  atsim fast {app:<8} round {round_number + 1}/{options.sim_rounds}", flush=True
            )
            run_number = 2 * round_number + index
            run = fast_run(context, app, options.sim_calls, run_number, workdir)
            runs.append(run)
            if app not in best or run.calls_per_second > best[app].calls_per_second:
                best[app] = run
    base = best["baseline"]
    context.lines.append(
        f"simulator --speed fast: whole calls (first request, welcome Say, final request, "
        f"events) of {options.sim_calls} calls queued at once, best of {options.sim_rounds}"
    )
    context.lines.append(
        f"{'app':<10} {'calls/s':>8} {'ratio':>7} {'hooks/call':>10} "
        f"{'atsim CPU ms/call':>18} {'app CPU ms/call':>16}  checks"
    )
    for app in ("baseline", "service"):
        run = best[app]
        stored = "" if run.stored is None else f", {run.stored}/{run.webhooks} stored"
        context.lines.append(
            f"{app:<10} {run.calls_per_second:>8.1f} "
            f"{run.calls_per_second / base.calls_per_second:>6.2f}x "
            f"{run.webhooks / run.calls:>10.1f} {1000 * run.simulator_cpu / run.calls:>18.2f} "
            f"{1000 * run.app_cpu / run.calls:>16.2f}  {run.succeeded}/{run.calls} Success, "
            f"{run.webhooks_ok}/{run.webhooks} answered 2xx{stored}"
        )
    failed = [run for run in runs if not run.complete]
    for run in failed:
        context.lines.append(f"  INCOMPLETE: {run}")
    context.failed |= bool(failed)


def simulator_figures(context: BenchContext) -> None:
    """Every simulator figure ``--sim-parts`` asks for, appended to ``context.lines``."""
    from tests.bench.bench_live_calls import measure_live_calls

    parts = context.options.sim_parts
    with tempfile.TemporaryDirectory(prefix="avk-bench-sim-") as directory:
        if "fast" in parts:
            measure_fast_calls(context, Path(directory))
        if "live" in parts:
            measure_live_calls(context, Path(directory))


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of the script run alone."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    add_simulator_arguments(parser)
    options = parser.parse_args(argv)
    check_simulator_arguments(parser, options)
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Start the baseline and the service, measure, print; 1 if a check failed."""
    options = parse_arguments(argv)
    context = BenchContext(options)
    command = " ".join(["python -m tests.bench.bench_simulator", *sys.argv[1:]])
    print(
        f"at-voice-kit simulator benchmark: {options.database}, {os.cpu_count()} CPUs; "
        f"command: {command}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="avk-bench-") as directory:
        workdir = Path(directory)
        with database(options.database, workdir) as database_for, ExitStack() as apps:
            if "fast" in options.sim_parts:  # the live part needs neither app
                start_apps(context, apps, workdir, database_for)
            simulator_figures(context)
    print("\n".join(context.lines))
    return 1 if context.failed else 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
