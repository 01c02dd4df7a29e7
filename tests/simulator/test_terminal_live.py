"""The terminal, live: ``atsim call``/``dial``/``demo`` print each timeline line as it happens,
``atsim serve`` logs a readable line per webhook and per call start and end, ``atsim calls``
and ``atsim show`` read any call, and ``--interactive`` makes the terminal the phone."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import africastalking
import httpx
import pytest

from at_voice_kit.simulator.testing.sdk import sdk_pointed_at
from tests.simulator.atsim_process import AtsimProcess, atsim_command, atsim_serve, stop
from tests.simulator.dashboard.voice_app import SLOW_MENU, voice_app, wired

pytestmark = pytest.mark.e2e

AT_NUMBER = "+254711082000"
USER = "+254711082369"
PERSON = "+254722000111"
WAIT = 120.0


@dataclass
class Running:
    """A command running, its output read line by line as it comes."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None]
    seen: list[str]

    def until(self, text: str, timeout: float = WAIT) -> str:
        """The first line (from now) containing ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"ended before {text!r}:\n" + "".join(self.seen))
            if text in line:
                return line
        raise AssertionError(f"no {text!r} in:\n" + "".join(self.seen))

    def type(self, keys: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(keys)
        self.process.stdin.flush()

    def finish(self) -> int:
        return self.process.wait(timeout=WAIT)


@contextmanager
def running(*args: str) -> Iterator[Running]:
    process = subprocess.Popen(
        [*atsim_command(), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield Running(process, lines, seen)
    finally:
        stop(process, signal.SIGINT, grace=20)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def phase(sim: AtsimProcess, session_id: str) -> str:
    answer = httpx.get(f"{sim.url}/_simulator/calls/{session_id}", timeout=10).json()
    return str(answer["phase"])


def test_atsim_call_prints_each_line_as_it_happens_and_serve_logs_calls_not_requests() -> None:
    with voice_app(SLOW_MENU) as (_, app_url), atsim_serve(*wired(app_url), "--speed", "2") as sim:
        with running("call", "--url", sim.url, "--to", USER, "--answer", "answered") as call:
            session_id = call.until("queued ATVId_").split()[1].rstrip(":")
            call.until("event    SessionStarted")
            # The call has a 30 s GetDigits nobody answers ahead of it (15 s at speed 2):
            # the line came while it ran, not at its end.
            assert phase(sim, session_id) != "ended"
            call.until("GetDigits: no input")
            headline = call.until(f"{session_id}  Outbound")
            assert "Completed/Success NORMAL_CLEARING" in headline
            assert call.finish() == 0
        log = sim.stdout_lines()
        everything = sim.all_output()
    started = [line for line in log if " call  " in line and line.rstrip().endswith("started")]
    ended = [line for line in log if " call  " in line and "NORMAL_CLEARING" in line]
    hooks = [line for line in log if " hook  " in line]
    assert len(started) == 1 and len(ended) == 1
    assert any("callback isActive=1  -> 200 Say" in line for line in hooks)
    assert any("event    SessionEnded" in line for line in hooks)
    assert all("secret=***" in line for line in hooks if "/voice" in line)
    assert not any("dev-phone-secret-value" in line for line in log)
    assert not any("GET /_simulator" in line for line in everything), "no access log by default"


def test_the_access_log_is_there_on_request() -> None:
    with atsim_serve("--access-log") as sim:
        httpx.get(f"{sim.url}/_simulator/health", timeout=10)
        deadline = time.monotonic() + WAIT
        while not any("GET /_simulator/health" in line for line in sim.all_output()):
            assert time.monotonic() < deadline, sim.all_output()
            time.sleep(0.1)


def test_atsim_calls_and_show_read_sdk_calls_and_follow_streams_new_ones() -> None:
    with voice_app() as (_, app_url), atsim_serve(*wired(app_url), "--speed", "2") as sim:
        httpx.put(
            f"{sim.url}/_simulator/callees/{USER}",
            json={"answer": "answered", "digits": ["2"]},
            timeout=10,
        ).raise_for_status()
        with running("calls", "--follow", "--url", sim.url) as follow:
            follow.until("-- following")
            with sdk_pointed_at(sim.url, "sandbox", "atsim-sandbox-key"):
                answer = africastalking.Voice.call(AT_NUMBER, [USER])
            session_id = answer["entries"][0]["sessionId"]
            follow.until(f"new  {session_id}")
            line = follow.until(f"{session_id}   ")
            assert phase(sim, session_id) != "ended"  # lines come while the call runs
            assert "s event    SessionStarted" in line or "s callback" in line
            follow.until(f"end  {session_id}")
        listed = subprocess.run(
            [*atsim_command(), "calls", "--url", sim.url], capture_output=True, text=True,
            timeout=WAIT, check=True,
        )  # fmt: skip
        assert listed.stdout.startswith(session_id)
        shown = subprocess.run(
            [*atsim_command(), "show", session_id, "--url", sim.url], capture_output=True,
            text=True, timeout=WAIT, check=True,
        )  # fmt: skip
        assert "callback isActive=1 dtmfDigits=2" in shown.stdout
        assert "dev-phone-secret-value" not in shown.stdout
        unknown = subprocess.run(
            [*atsim_command(), "show", "ATVId_nope", "--url", sim.url], capture_output=True,
            text=True, timeout=WAIT, check=False,
        )  # fmt: skip
        assert unknown.returncode == 2 and "404" in unknown.stderr


def test_atsim_dial_interactive_shows_the_prompts_and_sends_keys_as_they_are_typed() -> None:
    with voice_app() as (app, app_url), atsim_serve(*wired(app_url), "--speed", "fast") as sim:
        args = ("dial", "--interactive", "--url", sim.url, "--from", PERSON, "--to", AT_NUMBER)
        with running(*args) as dial:
            dial.until("listening for 1 key(s)")
            assert "Welcome to the dev phone test" in dial.until('Say: "')
            dial.type("1")
            dial.until("recording: talk")
            time.sleep(1.5)
            dial.type("#")
            dial.until("recorded ")
            dial.until('Say: "Thank you')
            dial.type("h")
            dial.until("call ended: NORMAL_CLEARING")
            headline = dial.until(f"Inbound  {PERSON} -> {AT_NUMBER}")
            assert "Completed/Success" in headline
            assert dial.finish() == 0
        refused = subprocess.run(
            [*atsim_command(), "dial", "--interactive", "--url", sim.url,
             "--from", AT_NUMBER, "--to", AT_NUMBER],
            capture_output=True, text=True, timeout=WAIT, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert refused.returncode == 2 and "is an AT number" in refused.stderr
    forms = app.callbacks()
    assert [form["dtmfDigits"] for form in forms if "dtmfDigits" in form] == ["1"]
    recording_url = next(form["recordingUrl"] for form in forms if "recordingUrl" in form)
    assert recording_url.endswith("-1.wav")
    assert forms[0]["direction"] == "Inbound" and forms[0]["callerNumber"] == PERSON


def test_atsim_call_interactive_rings_the_terminal_which_answers_and_hangs_up() -> None:
    with voice_app() as (app, app_url), atsim_serve(*wired(app_url), "--speed", "fast") as sim:
        args = ("call", "--interactive", "--url", sim.url, "--to", PERSON)
        with running(*args) as call:
            call.until(f"ringing: {AT_NUMBER} is calling")
            call.type("a")
            call.until("listening for 1 key(s)")
            call.type("h")
            call.until("call ended: NORMAL_CLEARING (the phone user hung up)")
            assert call.finish() == 0
    assert app.callbacks()[0]["direction"] == "Outbound"


def test_atsim_demo_at_a_real_speed_prints_the_calls_lines_as_they_happen() -> None:
    with running("demo", "--speed", "20", "--calls", "2", "--seed", "5") as demo:
        demo.until("Live (the calls' lines as they happen")
        demo.until("[1]       ")
        assert demo.process.poll() is None  # still running: the lines came live
        demo.until("The calls:")
        demo.until("atsim demo: OK")
        assert demo.finish() == 0


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    with atsim_serve() as sim:
        process = subprocess.Popen(
            [*atsim_command(), "calls", "--follow", "--url", sim.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # `atsim calls --follow | head -0`: the reader is gone
        status = process.wait(timeout=WAIT)
        errors = process.stderr.read()
        process.stderr.close()
    assert status == 0 and "Traceback" not in errors, errors
