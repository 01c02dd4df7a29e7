"""``atsim demo``: the whole kit in one command, with no AT account and no set-up.

It starts the simulator (in this process, on a loopback port) and the webhook service (a real
gunicorn process on a throwaway SQLite database, with the menu flow), points the simulator's
AT number at the service's callback and events URLs, places a batch of calls through the
service's ``invoke-call`` (scripted phone users showing each outcome, the menu walked with
digits and a recording, and some left to chance), waits for them, and prints each call's
timeline from the simulator's journal, a summary of outcomes by hangup cause, and the call
history the service stored. Exit 0 only if every call was placed, ended, answered by the
service without error, and stored by it exactly as the simulator ran it.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_AT_NUMBER,
    DEFAULT_USERNAME,
    SimulatorConfig,
)
from at_voice_kit.simulator.backend.platform_config import Speed as SimulatorSpeed
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.client.feed import LiveTimeline
from at_voice_kit.simulator.client.remote import CallTimedOut, SimulatorClient, SimulatorRefused
from at_voice_kit.simulator.client.timeline import call_headline, ending_lines, render_call
from at_voice_kit.simulator.commands.call_output import say
from at_voice_kit.simulator.demo.report import (
    DemoResult,
    counted,
    history_table,
    outcome_summary,
    problems,
)
from at_voice_kit.simulator.demo.scenario import AGENT_SCRIPTS, DemoCall, build_scenario
from at_voice_kit.simulator.demo.service import ServiceFailed, ServiceProcess, ServiceSettings
from at_voice_kit.simulator.network import SimulatedNetwork
from at_voice_kit.simulator.serving.server import ThreadedSimulator
from at_voice_kit.simulator.untrusted_text import printable

DEFAULT_CALLS = 10
MAX_CALLS = 1000
FAST_WAIT_SECONDS = 60.0
REAL_WAIT_SECONDS = 1800.0
EXIT_OK = 0
EXIT_FAILED = 1


def register(subparsers: Any) -> None:
    """Add ``atsim demo`` to the ``atsim`` parser."""
    parser = subparsers.add_parser(
        "demo",
        help="run the webhook service against the simulator: a batch of calls, end to end",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument(
        "--calls",
        type=_calls,
        default=DEFAULT_CALLS,
        help=f"how many calls to place (default {DEFAULT_CALLS}: 7 scripted, the rest random)",
    )
    parser.add_argument("--seed", type=int, help="seed: the same seed replays the same calls")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=SimulatorSpeed.parse("fast"),
        help="'fast' (default: virtual time, done in seconds), 'real' to watch, or N",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the service and the simulator up afterwards (print their URLs; Ctrl-C stops)",
    )
    parser.set_defaults(func=run)


def _calls(text: str) -> int:
    try:
        calls = int(text)
    except ValueError:
        calls = 0
    if not 1 <= calls <= MAX_CALLS:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number from 1 to {MAX_CALLS}")
    return calls


def _speed(text: str) -> SimulatorSpeed:
    try:
        return SimulatorSpeed.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """Run the demo; the exit status says whether everything worked."""
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    workdir = Path(tempfile.mkdtemp(prefix="atsim-demo-"))
    config = SimulatorConfig(seed=seed, speed=args.speed).resolved()
    backend = VoiceBackend(config)
    SimulatedNetwork.attach(backend)
    _stop_on_signals()
    service: ServiceProcess | None = None
    try:
        with ThreadedSimulator(backend) as simulator:
            print(
                f"atsim demo: seed {seed}, speed {args.speed}, {counted(args.calls, 'call')}",
                flush=True,
            )
            print(f"  simulator: {simulator.url} (in this process)", flush=True)
            service = ServiceProcess(
                ServiceSettings(
                    simulator.url, DEFAULT_USERNAME, DEFAULT_API_KEY, DEFAULT_AT_NUMBER, workdir
                )
            )
            service.start()
            print(f"  service:   {service.url} (gunicorn, SQLite in {workdir})", flush=True)
            try:
                with SimulatorClient(simulator.url) as client:
                    status = _run_calls(args, seed, client, service)
                    if args.keep_running:
                        _keep_running(simulator.url, service)
                return status
            finally:
                # The service first, while the simulator it calls is still up: then neither
                # waits at its shutdown for a request the other can no longer answer.
                service.stop()
    except ServiceFailed as exc:
        print(f"atsim demo: {exc}", file=sys.stderr)
        if service is not None:
            print(service.log_tail(), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED if not args.keep_running else EXIT_OK
    finally:
        if service is not None:
            service.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _run_calls(
    args: argparse.Namespace, seed: int, client: SimulatorClient, service: ServiceProcess
) -> int:
    client.set_number(
        DEFAULT_AT_NUMBER, {"callbackUrl": service.callback_url, "eventsUrl": service.events_url}
    )
    scenario = build_scenario(args.calls, seed)
    for number, script in AGENT_SCRIPTS.items():
        client.set_callee(number, script)
    for call in scenario:
        if call.script is not None:
            client.set_callee(call.phone_number, call.script)
    print(f"\nPlacing {counted(len(scenario), 'call')} through {service.url}/voice/invoke-call ...")
    position = client.feed_position()
    placed = [_place(service, call) for call in scenario]
    if str(args.speed) == "fast":
        results = [_wait(client, result, FAST_WAIT_SECONDS) for result in placed]
        _print_timelines(results)
    else:
        results = _follow_live(client, placed, position, REAL_WAIT_SECONDS)
        _print_headlines(results)
    print("\nOutcomes by hangup cause (the simulator's journal):")
    print(outcome_summary(results))
    history = service.history()
    print(f"\nCall history stored by the service (GET {service.url}/voice/calls):")
    print(history_table(history))
    found = problems(results, history)
    if found:
        print(f"\natsim demo: FAILED ({counted(len(found), 'problem')}):", file=sys.stderr)
        for problem in found:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"\natsim demo: OK: {counted(len(results), 'call')} placed by the service, run by the "
        f"simulator, and stored with every event (replay with --seed {seed})."
    )
    return EXIT_OK


def _place(service: ServiceProcess, call: DemoCall) -> DemoResult:
    try:
        answer = service.invoke_call(call.phone_number)
    except ServiceFailed as exc:
        return DemoResult(call.label, call.phone_number, None, None, str(exc))
    entries = answer.get("response", {}).get("entries") or []
    if not entries or entries[0].get("status") != "Queued":
        problem = f"not queued: {answer}"
        return DemoResult(call.label, call.phone_number, None, None, problem)
    return DemoResult(call.label, call.phone_number, entries[0]["sessionId"], None)


def _wait(client: SimulatorClient, result: DemoResult, timeout: float) -> DemoResult:
    if result.session_id is None:
        return result
    try:
        call = client.wait_for_end(result.session_id, timeout)
    except (CallTimedOut, SimulatorRefused) as exc:
        return DemoResult(result.label, result.phone_number, result.session_id, None, str(exc))
    return DemoResult(result.label, result.phone_number, result.session_id, call)


def _follow_live(
    client: SimulatorClient, placed: list[DemoResult], position: int, timeout: float
) -> list[DemoResult]:
    """Print every call's timeline lines as they happen (``[n]`` says which call), from the
    live feed, until every call has ended; then the calls' records."""
    labels = {r.session_id: f"[{n}]" for n, r in enumerate(placed, start=1) if r.session_id}
    print("\nLive (the calls' lines as they happen; [n] is call n):", flush=True)
    for number, result in enumerate(placed, start=1):
        print(f"  [{number}] {result.label}: {result.phone_number}", flush=True)
    printer = LiveTimeline(say, labels.get)
    pending = set(labels)
    deadline = time.monotonic() + timeout
    if pending:
        for event in client.follow_feed(position):
            printer.handle(event)
            pending = {sid for sid in pending if not printer.ended(sid)}
            if not pending or time.monotonic() >= deadline:
                break
    return [_wait(client, result, max(deadline - time.monotonic(), 1.0)) for result in placed]


def _print_headlines(results: list[DemoResult]) -> None:
    print("\nThe calls:")
    for index, result in enumerate(results, start=1):
        if result.call is not None:
            print(f"  [{index}] {printable(call_headline(result.call))}")
            for line in ending_lines(result.call, "        "):
                print(line)
        else:
            print(f"  [{index}] {result.phone_number}: {result.problem}")


def _print_timelines(results: list[DemoResult]) -> None:
    for index, result in enumerate(results, start=1):
        print(f"\nCall {index}/{len(results)}: {result.label}")
        if result.call is not None:
            print(render_call(result.call))
        else:
            print(f"  {result.phone_number}: {result.problem}")


def _keep_running(simulator_url: str, service: ServiceProcess) -> None:
    print(
        "\nStill running (Ctrl-C stops both):\n"
        f"  simulator:  {simulator_url}  (admin API {simulator_url}/_simulator/)\n"
        f"  service:    {service.url}  (Authorization: Bearer {service.api_token})\n"
        f"  try: atsim call --url {simulator_url} --to +254711000001 --digits 1\n"
        f"       curl -H 'Authorization: Bearer {service.api_token}' {service.url}/voice/calls",
        flush=True,
    )
    threading.Event().wait()


def _stop_on_signals() -> None:
    """SIGINT (Ctrl-C) and SIGTERM stop the demo, cleaning up the service and the temp dir.

    SIGINT is set explicitly: a process started in the background by a shell inherits it
    *ignored*, and Python then never raises KeyboardInterrupt, so ``--keep-running`` would
    not stop on the signal it tells the user to send.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGINT, signal.default_int_handler)
