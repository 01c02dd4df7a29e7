"""Benchmark part: memory per live call of ``atsim serve`` in real time, 10,000 calls live.

Run through :mod:`tests.bench.bench_simulator` (``--sim-parts live``). A real ``atsim serve``
(real-time clock, the default speed) calls 10,000 phone users for the holding app
(:mod:`tests.simulator.holding_app`), which keeps each call in its flow for an hour
(``GetDigits``, ``Record``, or ``Dial`` to an agent, whose leg is a live call session too).
Once every call is live and the webhooks have gone quiet, the simulator's resident memory
against its memory before (after a small warm-up, so one-time costs are not counted) gives the
memory per live call. With the calls live, the admin API is asked for its health, the whole
call list and one call, and a new call is placed and run to its end; then a reset ends them
all. Everything is bounded by ``--sim-timeout``; both processes are stopped at the end.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from at_voice_kit.simulator.client.remote import SimulatorClient
from tests.bench.bench_service import BenchContext
from tests.bench.bench_simulator import (
    ACCOUNT_BALANCE,
    AT_NUMBER,
    check_quiet_stderr,
    phone_users,
    place_calls,
)
from tests.bench.process_usage import cpu_seconds
from tests.simulator.atsim_process import ProcessStats, atsim_serve, process_stats
from tests.simulator.holding_app import DIAL, HoldingApp, hold_answer

SAY_NUMBER = "+254711082002"
WARMUP_CALLS = 100
QUIET_SECONDS = 1.0
"""How long the simulator must stay (nearly) idle for its webhooks to count as all sent."""
IDLE_CPU_SHARE = 0.05
PROBES = 5
"""Each admin request is timed this many times; the median and the slowest are reported (a
garbage collection of the whole heap now and then shows in the slowest)."""
KIB_PER_MIB = 1024


@dataclass(frozen=True, slots=True)
class Probe:
    """One admin request, made :data:`PROBES` times while the calls are live."""

    what: str
    statuses: tuple[int, ...]
    milliseconds: tuple[float, ...]
    size: int

    @property
    def ok(self) -> bool:
        """Every answer was a 200."""
        return all(status == 200 for status in self.statuses)

    def describe(self) -> str:
        """``what``, its median and slowest time, and the answer's size when it is large."""
        text = (
            f"{self.what} {'200' if self.ok else self.statuses} in "
            f"{statistics.median(self.milliseconds):.0f} ms (slowest {max(self.milliseconds):.0f})"
        )
        return text + (f", {self.size / 1e6:.2f} MB" if self.size > 100_000 else "")


@dataclass(frozen=True, slots=True)
class LiveLoad:
    """The simulator before and after the calls went live."""

    placed: int
    live_before: int
    live_after: int
    before: ProcessStats
    after: ProcessStats
    settle_seconds: float

    @property
    def kib_per_live_call(self) -> float:
        """Resident memory the simulator added per live call session."""
        return (self.after.rss_kib - self.before.rss_kib) / (self.live_after - self.live_before)

    @property
    def kib_per_placed_call(self) -> float:
        """The same per call placed (a Dial's agent leg counted with its call)."""
        return (self.after.rss_kib - self.before.rss_kib) / self.placed


def write_live_config(path: Path, app_url: str) -> Path:
    """The AT number calls the holding app; phone users stay an hour (and agents answer)."""
    path.write_text(
        "accounts:\n"
        f'  - {{username: sandbox, apiKey: atsim-sandbox-key, balance: "{ACCOUNT_BALANCE}"}}\n'
        "numbers:\n"
        f'  - {{phoneNumber: "{AT_NUMBER}", callbackUrl: "{app_url}/hold",'
        f' eventsUrl: "{app_url}/events"}}\n'
        f'  - {{phoneNumber: "{SAY_NUMBER}", callbackUrl: "{app_url}/say"}}\n'
        "defaultCallee: {answer: answered, hangupAfter: 3600, speechSeconds: 3600}\n"
    )
    return path


def live_legs(users: list[str]) -> int:
    """Call sessions ``users`` make live: one each, and an agent's leg per Dial."""
    return len(users) + sum(hold_answer(user) == DIAL for user in users)


def settle(
    sim: SimulatorClient, pid: int, app: HoldingApp, first_requests: int, live: int, timeout: float
) -> int:
    """Wait until the app saw ``first_requests`` calls, ``live`` sessions are live, and the
    simulator has gone idle (its webhooks all sent); the live count (bounded by ``timeout``).

    Idle is measured, not guessed from the app's side: a pause of the simulator's event loop
    (a garbage collection of a large heap) can make the app see nothing for a second while
    thousands of events are still queued.
    """
    deadline = time.monotonic() + timeout
    while True:
        health = sim.admin("GET", "health")
        in_flow = app.first_requests >= first_requests and health["liveCalls"] == live
        if in_flow and is_idle(pid):
            return int(health["liveCalls"])
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"not settled after {timeout:g} s: {health}, the app saw "
                f"{app.first_requests}/{first_requests} calls ({dict(app.by_path)})"
            )
        time.sleep(0.2)


def is_idle(pid: int) -> bool:
    """Whether process ``pid`` used under :data:`IDLE_CPU_SHARE` of a core for a while."""
    before = cpu_seconds(pid)
    time.sleep(QUIET_SECONDS)
    return cpu_seconds(pid) - before < IDLE_CPU_SHARE * QUIET_SECONDS


def timed(what: str, request: Callable[[], httpx.Response]) -> Probe:
    """:data:`PROBES` runs of ``request``, timed."""
    statuses: list[int] = []
    milliseconds: list[float] = []
    size = 0
    for _ in range(PROBES):
        started = time.perf_counter()
        response = request()
        milliseconds.append(1000 * (time.perf_counter() - started))
        statuses.append(response.status_code)
        size = len(response.content)
    return Probe(what, tuple(statuses), tuple(milliseconds), size)


def probe_admin(url: str, session_id: str, timeout: float) -> list[Probe]:
    """Health, the whole call list and one call, as an operator would ask for them."""
    with httpx.Client(base_url=f"{url}/_simulator", timeout=timeout) as admin:
        admin.get("/health")  # the connection is made once, not timed
        return [
            timed("health", lambda: admin.get("/health")),
            timed("calls", lambda: admin.get("/calls")),
            timed("one call", lambda: admin.get(f"/calls/{session_id}")),
        ]


def measure_live_calls(context: BenchContext, workdir: Path) -> None:
    """Hold ``--sim-live-calls`` calls live in real time; report memory, admin API, reset."""
    options = context.options
    calls, timeout = options.sim_live_calls, options.sim_timeout
    print(f"  atsim real time: {calls} calls live", flush=True)
    with HoldingApp() as app:
        config = write_live_config(workdir / "atsim-live.yaml", app.url)
        with (
            atsim_serve("--config", str(config), "--seed", "11") as atsim,
            SimulatorClient(atsim.url, client=httpx.Client(timeout=timeout)) as sim,
        ):
            pid = atsim.process.pid
            warm = phone_users(WARMUP_CALLS, 40_000_000)
            sessions = place_calls(sim, warm)
            live_before = settle(sim, pid, app, len(warm), live_legs(warm), timeout)
            before = process_stats(pid)
            users = phone_users(calls, 40_000_000 + WARMUP_CALLS)
            started = time.monotonic()
            sessions += place_calls(sim, users)
            live_after = settle(
                sim, pid, app, len(warm) + calls, live_before + live_legs(users), timeout
            )
            load = LiveLoad(
                calls, live_before, live_after, before, process_stats(pid),
                time.monotonic() - started,
            )  # fmt: skip
            probes = probe_admin(atsim.url, sessions[-1], timeout)
            new_call = run_one_call(sim, timeout)
            reset = reset_all(atsim.url, sim, pid, timeout)
            check_quiet_stderr(atsim)
    report_live(context, load, probes, new_call, reset)


@dataclass(frozen=True, slots=True)
class NewCall:
    """A call placed while the load is live, run to its end."""

    status: str
    seconds: float


def run_one_call(sim: SimulatorClient, timeout: float) -> NewCall:
    """Place a call whose app says goodbye; wait for its end (real time: it rings first)."""
    started = time.monotonic()
    session_id = sim.place_call(SAY_NUMBER, ["+254722999001"])["entries"][0]["sessionId"]
    call = sim.wait_for_end(session_id, timeout)
    return NewCall(str(call["outcome"]["status"]), time.monotonic() - started)


@dataclass(frozen=True, slots=True)
class Reset:
    """``POST /_simulator/reset`` with the load live, and the simulator after it."""

    status: int
    seconds: float
    live_after: int
    fds_before: int
    fds_after: int


def reset_all(url: str, sim: SimulatorClient, pid: int, timeout: float) -> Reset:
    """End every live call with a reset; how long it took and what is left."""
    fds_before = process_stats(pid).open_fds
    started = time.perf_counter()
    response = httpx.post(f"{url}/_simulator/reset", timeout=timeout)
    seconds = time.perf_counter() - started
    time.sleep(QUIET_SECONDS)  # cancelled webhooks close their connections
    live = int(sim.admin("GET", "health")["liveCalls"])
    return Reset(response.status_code, seconds, live, fds_before, process_stats(pid).open_fds)


def report_live(
    context: BenchContext, load: LiveLoad, probes: list[Probe], new_call: NewCall, reset: Reset
) -> None:
    """Append the live-calls figures to the report; a failed check fails the benchmark."""
    live = load.live_after
    context.lines += [
        f"simulator real time: {load.placed} calls held live (GetDigits, Record or Dial to an "
        f"agent; an hour each) after {WARMUP_CALLS} warm-up calls: {live} call sessions live "
        f"(Dial agent legs included), all in their flow {load.settle_seconds:.1f} s after the "
        "first /call",
        f"  atsim RSS {load.before.rss_kib / KIB_PER_MIB:.1f} MiB with {load.live_before} live "
        f"-> {load.after.rss_kib / KIB_PER_MIB:.1f} MiB with {live} live (peak "
        f"{load.after.peak_rss_kib / KIB_PER_MIB:.1f} MiB): {load.kib_per_live_call:.1f} KiB "
        f"per live call session, {load.kib_per_placed_call:.1f} KiB per placed call",
        f"  admin API with {live} live ({PROBES} requests each): "
        + "; ".join(probe.describe() for probe in probes),
        f"  a call placed with {live} live ran to its end: {new_call.status} after "
        f"{new_call.seconds:.1f} s (real time: ringing and the Say included)",
        f"  reset: {reset.status}, {live} live calls ended in {reset.seconds:.2f} s; "
        f"{reset.live_after} live after; open fds {reset.fds_before} -> {reset.fds_after}",
    ]
    ok = all(probe.ok for probe in probes) and new_call.status == "Success"
    ok = ok and reset.status == 200 and reset.live_after == 0
    if not ok:
        context.lines.append("  FAILED: an admin answer, the new call or the reset (above)")
    context.failed |= not ok
