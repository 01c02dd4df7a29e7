"""``atsim demo``, the README's first command, as a user runs it: a real subprocess that starts
the service under gunicorn and the simulator, places a batch of calls and checks them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.simulator.atsim_process import atsim_command

pytestmark = pytest.mark.e2e

SESSION_ROW = re.compile(r"^  (ATVId_[0-9a-f]{32})\s+(Outbound|Inbound)\s.*\s(\d+)$")


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*atsim_command(), "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # not the source tree: the installed package must carry everything
        check=False,
    )


def section(output: str, start: str, end: str) -> str:
    return output[output.index(start) : output.index(end)]


def test_the_demo_runs_every_kind_of_call_end_to_end(tmp_path: Path) -> None:
    done = demo(tmp_path, "--calls", "9", "--seed", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "atsim demo: OK: 9 calls placed by the service" in out
    timelines = section(out, "Call 1/9: menu: 1, leaves a message", "Outcomes by hangup cause")
    assert "callback isActive=1 dtmfDigits=1  -> 200 Record" in timelines
    assert "recordingUrl=http://127.0.0.1:" in timelines
    assert "Dial +254722000100,+254733123456" in timelines
    assert "leg +254733123456: rang" in timelines
    summary = section(out, "Outcomes by hangup cause", "Call history stored by the service")
    for cause in ("NORMAL_CLEARING", "USER_BUSY", "CALL_REJECTED"):
        assert cause in summary
    assert re.search(r"SUBSCRIBER_ABSENT|UNALLOCATED_NUMBER", summary)
    assert re.search(r"NO_ANSWER|NO_USER_RESPONSE|RECOVERY_ON_TIMER_EXPIRE", summary)
    history = out[out.index("Call history stored by the service") :]
    rows = [m for line in history.splitlines() if (m := SESSION_ROW.match(line))]
    session_ids = set(re.findall(r"^Call \d/9: .*\n(ATVId_[0-9a-f]{32})", out, re.MULTILINE))
    assert {m.group(1) for m in rows} == session_ids and len(session_ids) == 9
    # The service stored, for every call, each webhook the simulator sent and its invoke-call:
    # at least SessionStarted, the final request, SessionFailed/Ended and CallRequested.
    assert all(int(m.group(3)) >= 4 for m in rows)
    assert not list(tmp_path.iterdir())  # nothing left behind in the working directory


def test_the_same_seed_gives_the_same_calls(tmp_path: Path) -> None:
    runs = [demo(tmp_path, "--calls", "4", "--seed", "12") for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0]
    timelines = [
        re.sub(r"127\.0\.0\.1:\d+", "HOST", section(run.stdout, "Placing", "Call history"))
        for run in runs
    ]
    assert timelines[0] == timelines[1]
    assert timelines[0].count("ATVId_") >= 4


def test_keep_running_leaves_both_up_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*atsim_command(), "demo", "--calls", "1", "--seed", "3", "--keep-running"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "curl -H" in line or not line:
                break
        text = "".join(lines)
        assert "Still running" in text, text
        simulator = re.search(r"simulator:\s+(http://127\.0\.0\.1:\d+)\s+\(admin", text)
        service = re.search(r"service:\s+(http://127\.0\.0\.1:\d+)\s+\(Authorization", text)
        assert simulator and service, text
        token = re.search(r"Bearer (\S+)\)", text)
        assert token is not None
        assert httpx.get(simulator.group(1) + "/_simulator/health").status_code == 200
        calls = httpx.get(
            service.group(1) + "/voice/calls",
            headers={"Authorization": f"Bearer {token.group(1)}"},
        )
        assert calls.status_code == 200 and len(calls.json()["calls"]) == 1
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        with pytest.raises(httpx.HTTPError):
            httpx.get(service.group(1) + "/voice/", timeout=2)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
