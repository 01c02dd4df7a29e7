"""Benchmark: the webhook service against a no-work baseline, under the same load, in one run.

    python -m tests.bench.bench_service [--database sqlite|postgres] [--duration 10]

Starts, on loopback, the service under gunicorn with its production settings
(``service/gunicorn_conf.py``) and the baseline (``tests/bench/baseline_app.py``: the same
routes and bodies, no work) under the same settings; drives each with the same bounded load
(wrk, with ``form_posts.lua``: realistic distinct AT notifications with some redeliveries for
``/voice/events``, first callback requests for ``/voice/instruct``); prints throughput and
p50/p99 latency as ratios to the baseline; and checks that every request the service
acknowledged is committed exactly once, by reading the database after the run. With
``--diagnose`` it also runs, under the same load, the rungs of a ladder from the baseline to
the service (the service without its store; with the cheapest durable write, a line appended
to a file and flushed; with its database writes but no call outcomes) and the service timing
its SQLite writer lock (:mod:`tests.bench.diagnostic_apps`), to show where the service's time
goes.

The machine is noisy (shared cores): compare the ratios of one run, not figures across runs.
Other parts add their figures through :data:`EXTRA_SECTIONS`, run while both apps are still
up (the simulator's: :mod:`tests.bench.bench_simulator`, its options are ``--sim-*``).
Not collected by pytest (the file name does not start with ``test_``); every step is bounded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa

from tests.bench.diagnostic_apps import DIAGNOSTIC_DIRECTORY_ENV
from tests.bench.process_usage import gunicorn_cpu_seconds, machine_ticks
from tests.bench.wrk_load import LoadResult, ensure_wrk, run_wrk
from tests.e2e.processes import REPO_ROOT, RunningProcess, free_port, running

GUNICORN_APPS = {
    "baseline": "tests.bench.baseline_app:create_app()",
    "service": "at_voice_kit.service.app:create_app()",
}
DIAGNOSTIC_APPS = {
    "no-store": "tests.bench.diagnostic_apps:service_without_store()",
    "floor": "tests.bench.diagnostic_apps:service_with_durable_floor()",
    "no-outcomes": "tests.bench.diagnostic_apps:service_without_outcomes()",
    "timed": "tests.bench.diagnostic_apps:service_with_write_timing()",
}
"""Run as well with ``--diagnose`` (:mod:`tests.bench.diagnostic_apps`), reported in this order:
the ladder's rungs from the baseline to the service, then the timed service."""
APP_TAGS = {
    "baseline": "b",
    "service": "s",
    "no-store": "n",
    "floor": "f",
    "no-outcomes": "o",
    "timed": "t",
}
"""Part of each run's session ids: the apps sharing the database never share a call."""
TARGETS = {"events": 0.8, "instruct": 0.9}
"""Throughput of the service as a fraction of the baseline's, per workload."""


@dataclass(frozen=True, slots=True)
class DurabilityCheck:
    """Acknowledged requests against what the database holds afterwards."""

    workload: str
    acked_distinct: int
    missing: int
    """Acknowledged but not in the database: must be 0."""
    duplicated: int
    """Stored more than once: must be 0."""
    stored_unacked: int
    """Committed but not acknowledged: requests in flight when the load stopped (harmless)."""

    @property
    def passed(self) -> bool:
        """Every acknowledged request is stored exactly once."""
        return self.missing == 0 and self.duplicated == 0


@dataclass
class BenchContext:
    """What a section of the report may use: the options and the running apps' URLs."""

    options: argparse.Namespace
    urls: dict[str, str] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    """The gunicorn masters' process ids, by app (their workers are its children)."""
    logs: dict[str, Callable[[], str]] = field(default_factory=dict)
    """Each app's gunicorn log so far, by app."""
    database_url: str = ""
    lines: list[str] = field(default_factory=list)
    failed: bool = False


def simulator_section(context: BenchContext) -> None:
    """The simulator's figures (:mod:`tests.bench.bench_simulator`): complete calls per second
    of ``atsim serve --speed fast`` driving ``context.urls["service"]`` against the same
    calls on the baseline, and memory per live call with 10,000 calls live in real time."""
    from tests.bench.bench_simulator import simulator_figures  # it imports this module

    simulator_figures(context)


EXTRA_SECTIONS: list[Callable[[BenchContext], None]] = [simulator_section]
"""Further sections of the report, run after the service comparison, in order."""


def check_durability(
    database_url: str, workload: str, tag: str, acked_keys: Sequence[str]
) -> DurabilityCheck:
    """Compare the keys acknowledged in run ``tag`` with the rows the database holds."""
    engine = sa.create_engine(database_url)
    if workload == "events":
        query = sa.text(
            "SELECT session_id || '|' || kind AS key, count(*) AS n FROM call_events "
            "WHERE source = 'event' AND session_id LIKE :prefix GROUP BY session_id, kind"
        )
    else:
        query = sa.text(
            "SELECT session_id AS key, count(*) AS n FROM call_events "
            "WHERE source = 'callback' AND session_id LIKE :prefix GROUP BY session_id"
        )
    try:
        with engine.connect() as connection:
            stored = {
                row.key: row.n for row in connection.execute(query, {"prefix": f"ATVId_{tag}%"})
            }
    finally:
        engine.dispose()
    acked = set(acked_keys)
    return DurabilityCheck(
        workload=workload,
        acked_distinct=len(acked),
        missing=len(acked - set(stored)),
        duplicated=sum(1 for count in stored.values() if count > 1),
        stored_unacked=len(set(stored) - acked),
    )


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """The service's database URL: a SQLite file, or a throwaway PostgreSQL server's."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'voice-events.db'}"
        return
    from tests.postgres_server import create_database, throwaway_postgres

    with throwaway_postgres() as server:
        yield create_database(server.url)


@contextmanager
def gunicorn_app(app: str, database_url: str, workdir: Path) -> Iterator[RunningProcess]:
    """One app under the production gunicorn settings, on a free loopback port."""
    port = free_port()
    environment = {
        "AT_USERNAME": "sandbox",
        "AT_API_KEY": "benchmark",
        "AT_VOICE_NUMBER": "+254711082000",
        # Nothing listens there: the benchmark places no calls.
        "AT_VOICE_URL": f"http://127.0.0.1:{free_port()}",
        "DATABASE_URL": database_url,
        DIAGNOSTIC_DIRECTORY_ENV: str(workdir),
    }
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:at_voice_kit.service.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        {**GUNICORN_APPS, **DIAGNOSTIC_APPS}[app],
    ]
    with running(
        argv,
        env=environment,
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=workdir / f"{app}.log",
    ) as process:
        yield process


def ratio_line(workload: str, base: LoadResult, served: LoadResult) -> tuple[str, bool]:
    """One row of the report, and whether the throughput target is met."""
    ratio = served.throughput / base.throughput
    target = TARGETS[workload]
    met = ratio >= target
    path = f"POST /voice/{workload}"
    line = (
        f"{path:<22} {base.throughput:>9.0f} {served.throughput:>9.0f} {ratio:>6.2f}x "
        f"{base.p50_ms:>7.1f} {served.p50_ms:>7.1f} {served.p50_ms / base.p50_ms:>6.2f}x "
        f"{base.p99_ms:>7.1f} {served.p99_ms:>7.1f} {served.p99_ms / base.p99_ms:>6.2f}x "
        f"  >={target:.1f}x {'met' if met else 'NOT MET'}"
    )
    return line, met


DIAGNOSTIC_LABELS = {
    "no-store": "the service without its store",
    "floor": "the service appending each event to a file, fdatasync per group commit",
    "no-outcomes": "the service writing its events but no call outcomes",
    "timed": "the service timing its writer lock",
}


def diagnostic_line(app: str, workload: str, base: LoadResult, served: LoadResult) -> str:
    """A diagnostic app's throughput against the baseline's (no target)."""
    return (
        f"  diagnostic, {workload}: {DIAGNOSTIC_LABELS[app]}: {served.throughput:.0f}/s, "
        f"{served.throughput / base.throughput:.2f}x of the baseline, "
        f"p50 {served.p50_ms:.1f} ms, p99 {served.p99_ms:.1f} ms"
    )


def write_timing_line(log: str) -> str:
    """The timed app's writer-lock figures: each worker's latest ``write-timing`` line."""
    from tests.bench.diagnostic_apps import TIMING_LINE

    latest: dict[str, str] = {}
    for line in log.splitlines():
        match = TIMING_LINE.match(line)
        if match:
            fields = match.groupdict()
            latest[fields["pid"]] = (
                f"{fields['batches']} batches of {fields['events_per_batch']} events, "
                f"lock held {fields['lock_held_ms']} ms and waited for "
                f"{fields['lock_wait_ms']} ms per batch"
            )
    if not latest:
        return "  diagnostic: no write-timing figures (no batch written)"
    return "  diagnostic, writer lock by worker (since start): " + "; ".join(latest.values())


HEADER = (
    f"{'endpoint':<22} {'base/s':>9} {'svc/s':>9} {'ratio':>7} "
    f"{'p50 b':>7} {'p50 s':>7} {'ratio':>7} {'p99 b':>7} {'p99 s':>7} {'ratio':>7}   target"
)


def start_apps(
    context: BenchContext, stack: ExitStack, workdir: Path, *, diagnose: bool = False
) -> None:
    """Start the baseline and the service, and with ``diagnose`` the diagnostic apps (all
    stopped when ``stack`` closes); note their URLs."""
    apps = [*GUNICORN_APPS, *(DIAGNOSTIC_APPS if diagnose else ())]
    for app in apps:
        started = stack.enter_context(gunicorn_app(app, context.database_url, workdir))
        context.urls[app] = started.url
        context.pids[app] = started.process.pid
        context.logs[app] = started.log


def measured_run(context: BenchContext, app: str, wrk: str, workload: str, tag: str) -> LoadResult:
    """One measured wrk run against ``app``, with the CPU it and the machine spent."""
    cpu_before, (idle_before, total_before) = (
        gunicorn_cpu_seconds(context.pids[app]),
        machine_ticks(),
    )
    result = run_wrk(
        wrk, context.urls[app], workload, tag, context.options, context.options.duration
    )
    cpu = gunicorn_cpu_seconds(context.pids[app]) - cpu_before
    idle_after, total_after = machine_ticks()
    return replace(
        result,
        cpu_us_per_request=cpu / max(result.requests, 1) * 1e6,
        machine_idle=(idle_after - idle_before) / max(total_after - total_before, 1),
    )


def cpu_line(workload: str, results: dict[tuple[str, str], LoadResult]) -> str:
    """Each app's CPU per request and the machine's idle share, in its best run."""
    parts = [
        f"{app} {result.cpu_us_per_request:.0f} µs ({result.machine_idle:.0%} idle)"
        for (app, measured), result in results.items()
        if measured == workload
    ]
    title = f"cpu per request, {workload} (gunicorn master and workers; machine idle incl. I/O)"
    return f"  {title}: " + ", ".join(parts)


def compare_service(context: BenchContext, wrk: str, database_url: str) -> None:
    """Drive the baseline and the service with each workload; check the service's writes."""
    options = context.options
    results: dict[tuple[str, str], LoadResult] = {}
    checks: list[DurabilityCheck] = []
    run_number = int(time.time()) % 10_000_000
    for workload in options.workloads:
        for app in context.urls:
            warm_tag = f"w{workload[0]}{APP_TAGS[app]}{run_number % 100_000:05d}"
            run_wrk(wrk, context.urls[app], workload, warm_tag, options, options.warmup)
        # Rounds alternate the apps, and each app's best round counts: on a shared
        # machine, interference only ever slows a run down.
        for round_number in range(options.rounds):
            for app in context.urls:
                tag = f"{workload[0]}{APP_TAGS[app]}{round_number}{run_number:06d}"[:9]
                print(
                    f"  {app:<9} {workload:<8} round {round_number + 1}/{options.rounds}",
                    flush=True,
                )
                result = measured_run(context, app, wrk, workload, tag)
                best = results.get((app, workload))
                if best is None or result.throughput > best.throughput:
                    results[app, workload] = result
                if app == "service":
                    checks.append(check_durability(database_url, workload, tag, result.acked_keys))
    context.lines.append(HEADER)
    for workload in options.workloads:
        base, served = results["baseline", workload], results["service", workload]
        line, met = ratio_line(workload, base, served)
        context.lines.append(line)
        context.failed |= options.strict and not met
        for app in DIAGNOSTIC_APPS:
            if (app, workload) in results:
                context.lines.append(diagnostic_line(app, workload, base, results[app, workload]))
        context.lines.append(cpu_line(workload, results))
    if "timed" in context.logs:
        context.lines.append(write_timing_line(context.logs["timed"]()))
    for workload in options.workloads:
        mine = [check for check in checks if check.workload == workload]
        served = results["service", workload]
        passed = all(check.passed for check in mine)
        context.lines.append(
            f"durability {workload} ({len(mine)} runs): "
            f"{sum(c.acked_distinct for c in mine)} distinct acknowledged, "
            f"{sum(c.missing for c in mine)} missing, {sum(c.duplicated for c in mine)} "
            f"duplicated, {sum(c.stored_unacked for c in mine)} stored but unanswered (in "
            f"flight at the stop); best run: {served.non_ok} non-OK answers, "
            f"{served.errors} socket errors: {'PASS' if passed else 'FAIL'}"
        )
        context.failed |= not passed


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument(
        "--rounds", type=int, default=2, help="measured runs per app and workload (best counts)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument(
        "--redeliver-every", type=int, default=10, help="every n-th event is a redelivery"
    )
    parser.add_argument(
        "--workloads", nargs="+", choices=sorted(TARGETS), default=["events", "instruct"]
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a throughput target is missed"
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also run the service without its store, and with its writer lock timed "
        "(tests/bench/diagnostic_apps.py)",
    )
    from tests.bench import bench_simulator  # it imports this module

    bench_simulator.add_simulator_arguments(parser)
    options = parser.parse_args(argv)
    bench_simulator.check_simulator_arguments(parser, options)
    if not 0 < options.duration <= 600 or options.connections < 1 or options.rounds < 1:
        parser.error("--duration must be in (0, 600] s; --connections, --rounds at least 1")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report; 1 if a durability check failed."""
    options = parse_arguments(argv)
    wrk = ensure_wrk()
    context = BenchContext(options)
    print(
        f"at-voice-kit benchmark: {options.database}, {options.connections} connections, "
        f"{options.rounds} x {options.duration:g}s per app and workload, {os.cpu_count()} CPUs, "
        "gunicorn settings of service/gunicorn_conf.py",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="avk-bench-") as directory:
        workdir = Path(directory)
        with database(options.database, workdir) as database_url, ExitStack() as apps:
            context.database_url = database_url
            start_apps(context, apps, workdir, diagnose=options.diagnose)
            compare_service(context, wrk, database_url)
            for section in EXTRA_SECTIONS:
                section(context)
    print("\n".join(context.lines))
    return 1 if context.failed else 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
