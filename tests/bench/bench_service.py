"""Benchmark: the webhook service against bare apps, under the same load, in one run.

    python -m tests.bench.bench_service [--database sqlite postgres] [--duration 10]
        [--diagnose] [--previous PYTHON] [--overload] [--workers N]

Starts, on loopback, under gunicorn: the reference (``tests/bench/baseline_app.py``'s bare
WSGI app under gunicorn's threaded workers, ``gthread`` with 16 threads: the usual stack the
target is set against), the same bare app as ASGI under the service's own workers, and the
service with its production settings (``service/gunicorn_conf.py``); drives each with the same
bounded load (wrk, with ``form_posts.lua``: realistic distinct AT notifications with some
redeliveries for ``/voice/events``, first callback requests for ``/voice/instruct``) in
alternating rounds; prints throughput and p50/p99 latency as ratios to the reference and to
the bare ASGI app; and checks that every request an app that stores acknowledged is
committed exactly once, by reading its database after each run. With ``--diagnose`` it also
runs the ladder's rungs between the bare ASGI app and the service
(:mod:`tests.bench.diagnostic_apps`); with ``--previous PYTHON`` the release before the
event-loop model and its lean synchronous path, from that interpreter's environment
(:mod:`tests.bench.lean_sync_app`); with ``--overload`` an open-loop burst of 5x the
service's measured capacity (:mod:`tests.bench.overload`).

The machine is noisy (shared cores): compare the ratios of one run, not figures across runs.
Other parts add their figures through :data:`EXTRA_SECTIONS`, run while the apps are still
up (the simulator's: :mod:`tests.bench.bench_simulator`, its options are ``--sim-*``).
Not collected by pytest (the file name does not start with ``test_``); every step is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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


@dataclass(frozen=True, slots=True)
class BenchApp:
    """One app the benchmark starts: what gunicorn loads, and how it is run and checked."""

    target: str
    tag: str
    """One letter in each run's session ids: the apps never share a call."""
    label: str
    gthread: bool = False
    """Run under gunicorn's threaded workers (gthread, 16 threads), not the service's own."""
    previous: bool = False
    """Run with the ``--previous`` interpreter (the release before), under its own settings."""
    stores: bool = False
    """Stores the service's rows: every run is checked against the database."""
    own_database: bool = False


APPS = {
    "baseline": BenchApp(
        "tests.bench.baseline_app:create_app()",
        "b",
        "bare Falcon WSGI app, gunicorn gthread",
        gthread=True,
    ),
    "asgi-baseline": BenchApp(
        "tests.bench.baseline_app:create_asgi_app()",
        "a",
        "bare Falcon ASGI app, the service's uvicorn workers",
    ),
    "service": BenchApp("at_voice_kit.service.app:create_app()", "s", "the service", stores=True),
}
DIAGNOSTIC_APPS = {
    "no-store": BenchApp(
        "tests.bench.diagnostic_apps:service_without_store()", "n", "the service without its store"
    ),
    "floor": BenchApp(
        "tests.bench.diagnostic_apps:service_with_durable_floor()",
        "f",
        "the durable floor: each event a line of a file, fdatasync per batch",
    ),
    "no-outcomes": BenchApp(
        "tests.bench.diagnostic_apps:service_without_outcomes()",
        "o",
        "the service writing its events but no call outcomes",
    ),
    "on-loop": BenchApp(
        "tests.bench.diagnostic_apps:service_writing_on_the_loop()",
        "l",
        "the service writing its batches on the event loop, not its writer thread",
        stores=True,
    ),
    "timed": BenchApp(
        "tests.bench.diagnostic_apps:service_with_write_timing()",
        "t",
        "the service timing its writer lock",
    ),
}
"""Run as well with ``--diagnose`` (:mod:`tests.bench.diagnostic_apps`), reported in this order:
the ladder's rungs from the bare ASGI app to the service, then the timed service."""
PREVIOUS_APPS = {
    "gthread-service": BenchApp(
        "at_voice_kit.service.app:create_app()",
        "g",
        "the previous release: the service under gthread (2 x 16), group commit by threads",
        gthread=True,
        previous=True,
        stores=True,
        own_database=True,  # the release before refuses a schema newer than it knows
    ),
    "lean-sync": BenchApp(
        "tests.bench.lean_sync_app:create_app()",
        "y",
        "the lean synchronous path: gthread, one statement per batch, outcomes folded into SQL",
        gthread=True,
        previous=True,
        stores=True,
        own_database=True,
    ),
}
"""Run as well with ``--previous PYTHON``: the release before the event-loop model, as
installed in that interpreter's environment (:mod:`tests.bench.lean_sync_app`)."""
TARGET = 1.0
"""Throughput of the service as a fraction of the bare WSGI app's under gthread, per workload."""


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
    app: str = "service"

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
    """The database the service (and every app without one of its own) writes to."""
    databases: dict[str, str] = field(default_factory=dict)
    checks: list[DurabilityCheck] = field(default_factory=list)
    capacity: float = 0.0
    """The service's best throughput on ``/voice/events`` in this run."""
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


def stored_keys(database_url: str, workload: str, tag: str) -> dict[str, int]:
    """How often each request of run ``tag`` is stored, by its key (events:
    ``sessionId|eventType``; instruct: ``sessionId``)."""
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
            return {
                row.key: row.n for row in connection.execute(query, {"prefix": f"ATVId_{tag}%"})
            }
    finally:
        engine.dispose()


def check_durability(
    database_url: str, workload: str, tag: str, acked_keys: Sequence[str]
) -> DurabilityCheck:
    """Compare the keys acknowledged in run ``tag`` with the rows the database holds."""
    stored = stored_keys(database_url, workload, tag)
    acked = set(acked_keys)
    return DurabilityCheck(
        workload=workload,
        acked_distinct=len(acked),
        missing=len(acked - set(stored)),
        duplicated=sum(1 for count in stored.values() if count > 1),
        stored_unacked=len(set(stored) - acked),
    )


def overload_section(context: BenchContext) -> None:
    """A burst of ``--burst-factor`` x the service's measured capacity on ``/voice/events``
    (:mod:`tests.bench.overload`): answered OK, 503 and timed out, and the database checked."""
    options = context.options
    capacity = context.capacity
    rate = capacity * options.burst_factor
    tag = f"z{int(time.time()) % 10_000_000:07d}"
    print(f"  overload: {rate:.0f} requests/s for {options.burst_seconds:g} s", flush=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench.overload",
            "--url",
            context.urls["service"] + "/voice/events",
            "--rate",
            f"{rate:.0f}",
            "--seconds",
            f"{options.burst_seconds:g}",
            "--tag",
            tag,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=options.burst_seconds + 120,
    )
    burst = json.loads(done.stdout.strip().splitlines()[-1])
    stored = stored_keys(context.database_url, "events", tag)
    missing = len(set(burst["ok_keys"]) - set(stored))
    stored_refused = len(set(burst["unavailable_keys"]) & set(stored))
    passed = missing == 0 and stored_refused == 0 and burst["timed_out"] == 0
    context.lines.append(
        f"overload, {options.database}: {burst['requests']} events due at {rate:.0f}/s "
        f"({options.burst_factor:g}x the {capacity:.0f}/s measured; sent at "
        f"{burst['sent_rate']:.0f}/s) for {options.burst_seconds:g} s: {burst['ok']} answered OK "
        f"(p50 {burst['ok_p50_ms']:.0f} ms, p99 {burst['ok_p99_ms']:.0f} ms from when due, "
        f"{burst['ok_p99_from_sent_ms']:.0f} ms from when sent; the sender itself was up to "
        f"{burst['send_late_p99_ms']:.0f} ms late, p99), "
        f"{burst['unavailable']} answered 503, {burst['timed_out']} timed out (10 s), "
        f"{burst['closed']} closed, {burst['other']} other; OK but not stored: {missing}; "
        f"503 but stored: {stored_refused}: {'PASS' if passed else 'FAIL'}"
    )
    context.failed |= missing > 0 or stored_refused > 0


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[Callable[[str], str]]:
    """A maker of database URLs, one database per name: SQLite files in ``workdir``, or
    databases of one throwaway PostgreSQL server."""
    if kind == "sqlite":
        yield lambda name: f"sqlite:///{workdir / f'{name}.db'}"
        return
    from tests.postgres_server import create_database, throwaway_postgres

    with throwaway_postgres() as server:
        yield lambda name: create_database(server.url)


def gunicorn_argv(app: BenchApp, port: int, previous: str | None) -> list[str]:
    """The command line of ``app``: the service's gunicorn settings, or gthread's."""
    python = previous if app.previous and previous else sys.executable
    threaded = ["--worker-class", "gthread", "--threads", "16"] if app.gthread else []
    if app.previous:
        threaded = []  # the previous release's own settings are gthread, 2 x 16
    return [
        python,
        "-m",
        "gunicorn",
        "-c",
        "python:at_voice_kit.service.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        *threaded,
        app.target,
    ]


@contextmanager
def gunicorn_app(
    name: str,
    app: BenchApp,
    database_url: str,
    workdir: Path,
    previous: str | None,
    workers: int | None = None,
) -> Iterator[RunningProcess]:
    """One app under gunicorn, on a free loopback port (``workers``: every app the same)."""
    port = free_port()
    environment = {
        "AT_USERNAME": "sandbox",
        "AT_API_KEY": "benchmark",
        "AT_VOICE_NUMBER": "+254711082000",
        # Nothing listens there: the benchmark places no calls.
        "AT_VOICE_URL": f"http://127.0.0.1:{free_port()}",
        "DATABASE_URL": database_url,
        DIAGNOSTIC_DIRECTORY_ENV: str(workdir),
        "PYTHONPATH": str(REPO_ROOT),
        **({"VOICE_WORKERS": str(workers)} if workers else {}),
    }
    with running(
        gunicorn_argv(app, port, previous),
        env=environment,
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=workdir / f"{name}.log",
    ) as process:
        yield process


def ratio_line(label: str, workload: str, base: LoadResult, served: LoadResult) -> str:
    """One row: ``served`` against ``base``, throughput and latency."""
    return (
        f"{label:<16} {workload:<9} {base.throughput:>8.0f} {served.throughput:>8.0f} "
        f"{served.throughput / base.throughput:>6.2f}x "
        f"{base.p50_ms:>7.1f} {served.p50_ms:>7.1f} {base.p99_ms:>7.1f} {served.p99_ms:>7.1f}"
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
    f"{'app':<16} {'endpoint':<9} {'base/s':>8} {'app/s':>8} {'ratio':>7} "
    f"{'p50 b':>7} {'p50 a':>7} {'p99 b':>7} {'p99 a':>7}"
)


def bench_apps(options: argparse.Namespace) -> dict[str, BenchApp]:
    """The apps this run starts, in the report's order."""
    apps = dict(APPS)
    if getattr(options, "diagnose", False):
        apps.update(DIAGNOSTIC_APPS)
    if getattr(options, "previous", None):
        apps.update(PREVIOUS_APPS)
    chosen = getattr(options, "apps", None)
    if chosen:
        apps = {name: app for name, app in apps.items() if name in {*chosen, *APPS}}
    return apps


def start_apps(
    context: BenchContext, stack: ExitStack, workdir: Path, database_for: Callable[[str], str]
) -> None:
    """Start every app of the run (all stopped when ``stack`` closes); note their URLs."""
    shared = database_for("voice-events")
    for name, app in bench_apps(context.options).items():
        url = database_for(name) if app.own_database else shared
        context.databases[name] = url
        started = stack.enter_context(
            gunicorn_app(
                name,
                app,
                url,
                workdir,
                getattr(context.options, "previous", None),
                getattr(context.options, "workers", None),
            )
        )
        context.urls[name] = started.url
        context.pids[name] = started.process.pid
        context.logs[name] = started.log
    context.database_url = shared


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


def run_rounds(context: BenchContext, wrk: str) -> dict[tuple[str, str], LoadResult]:
    """Warm every app up, then run the alternating rounds; each app's best round counts (on a
    shared machine, interference only ever slows a run down). Every run of an app that
    stores is checked against its database."""
    options = context.options
    results: dict[tuple[str, str], LoadResult] = {}
    run_number = int(time.time()) % 10_000_000
    apps = bench_apps(options)
    for workload in options.workloads:
        for name in context.urls:
            warm_tag = f"w{workload[0]}{apps[name].tag}{run_number % 100_000:05d}"
            run_wrk(wrk, context.urls[name], workload, warm_tag, options, options.warmup)
        for round_number in range(options.rounds):
            for name in context.urls:
                tag = f"{workload[0]}{apps[name].tag}{round_number}{run_number:06d}"[:9]
                print(f"  {name:<16} {workload:<8} round {round_number + 1}/{options.rounds}")
                result = measured_run(context, name, wrk, workload, tag)
                best = results.get((name, workload))
                if best is None or result.throughput > best.throughput:
                    results[name, workload] = result
                if apps[name].stores:
                    context.checks.append(
                        replace(
                            check_durability(
                                context.databases[name], workload, tag, result.acked_keys
                            ),
                            app=name,
                        )
                    )
    return results


def compare_service(context: BenchContext, wrk: str) -> None:
    """Drive every app with each workload; report the ratios; check the stored writes."""
    options = context.options
    results = run_rounds(context, wrk)
    apps = bench_apps(options)
    if ("service", "events") in results:
        context.capacity = results["service", "events"].throughput
    context.lines.append(f"== {options.database}: against the bare WSGI app under gthread")
    context.lines.append(HEADER)
    for workload in options.workloads:
        base = results["baseline", workload]
        for name in apps:
            if name != "baseline" and (name, workload) in results:
                context.lines.append(ratio_line(name, workload, base, results[name, workload]))
        ratio = results["service", workload].throughput / base.throughput
        met = ratio >= TARGET
        context.lines.append(
            f"  target: the service at least {TARGET:.1f}x on {workload}: "
            f"{ratio:.2f}x, {'met' if met else 'NOT MET'}"
        )
        context.failed |= options.strict and not met
    context.lines.append(f"== {options.database}: against the bare ASGI app (the shipped model)")
    context.lines.append(HEADER)
    for workload in options.workloads:
        base = results["asgi-baseline", workload]
        for name, app in apps.items():
            if not app.gthread and name != "asgi-baseline" and (name, workload) in results:
                context.lines.append(ratio_line(name, workload, base, results[name, workload]))
        context.lines.append(cpu_line(workload, results))
    for name, app in apps.items():
        context.lines.append(f"  {name}: {app.label}")
    if "timed" in context.logs:
        context.lines.append(write_timing_line(context.logs["timed"]()))
    durability_lines(context, results)


def durability_lines(context: BenchContext, results: dict[tuple[str, str], LoadResult]) -> None:
    """One line per app that stores and workload: acknowledged against stored."""
    for (name, workload), best in results.items():
        mine = [c for c in context.checks if c.workload == workload and c.app == name]
        if not mine:
            continue
        passed = all(check.passed for check in mine)
        context.lines.append(
            f"durability {name} {workload} ({len(mine)} runs): "
            f"{sum(c.acked_distinct for c in mine)} distinct acknowledged, "
            f"{sum(c.missing for c in mine)} missing, {sum(c.duplicated for c in mine)} "
            f"duplicated, {sum(c.stored_unacked for c in mine)} stored but unanswered (in "
            f"flight at the stop); best run: {best.non_ok} non-OK answers, "
            f"{best.errors} socket errors: {'PASS' if passed else 'FAIL'}"
        )
        context.failed |= not passed


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database",
        nargs="+",
        choices=["sqlite", "postgres"],
        default=["sqlite"],
        help="one run per database, in order, reported together (sqlite postgres: both)",
    )
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
        "--workloads", nargs="+", choices=["events", "instruct"], default=["events", "instruct"]
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a throughput target is missed"
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also run the ladder's rungs between the bare ASGI app and the service "
        "(tests/bench/diagnostic_apps.py)",
    )
    parser.add_argument(
        "--previous",
        metavar="PYTHON",
        help="also run the release before the event-loop model, installed in the environment "
        "of this interpreter, under gthread, and its lean synchronous path "
        "(tests/bench/lean_sync_app.py)",
    )
    parser.add_argument(
        "--overload",
        action="store_true",
        help="also drive the service with a burst of 5x its capacity (tests/bench/overload.py)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="VOICE_WORKERS for every app (default: the service's own default, every app alike)",
    )
    parser.add_argument(
        "--apps",
        nargs="+",
        metavar="APP",
        help="run only these of the diagnostic and previous apps (the baselines and the "
        "service always run)",
    )
    parser.add_argument("--burst-factor", type=float, default=5.0, help="times the capacity")
    parser.add_argument("--burst-seconds", type=float, default=4.0, help="seconds of burst")
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
    failed = False
    lines: list[str] = []
    for kind in options.database:
        print(
            f"at-voice-kit benchmark: {kind}, {options.connections} connections, "
            f"{options.rounds} x {options.duration:g}s per app and workload, "
            f"{os.cpu_count()} CPUs; command: python -m tests.bench.bench_service "
            + " ".join(sys.argv[1:] if argv is None else argv),
            flush=True,
        )
        context = BenchContext(replace_namespace(options, database=kind))
        with tempfile.TemporaryDirectory(prefix="avk-bench-") as directory:
            workdir = Path(directory)
            with database(kind, workdir) as database_for, ExitStack() as apps:
                start_apps(context, apps, workdir, database_for)
                compare_service(context, wrk)
                if options.overload:
                    overload_section(context)
                for section in EXTRA_SECTIONS:
                    section(context)
        lines += context.lines
        failed |= context.failed
    print("\n".join(lines))
    return 1 if failed else 0


def replace_namespace(options: argparse.Namespace, **changes: object) -> argparse.Namespace:
    """A copy of ``options`` with ``changes``."""
    return argparse.Namespace(**{**vars(options), **changes})


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
