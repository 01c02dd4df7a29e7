"""The pytest plugin as a user gets it: loaded through the ``pytest11`` entry point in a fresh
pytest process, failing loudly when code under test tries to reach the real AT."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

INNER_TESTS = """
import africastalking
import pytest
import requests
import socket
from at_voice_kit.simulator.testing.sdk import RealAfricasTalkingBlocked


def test_sdk_works(at_simulator):
    answer = africastalking.Voice.call(at_simulator.phone_number, ["+254711082001"])
    assert answer["entries"][0]["status"] == "Queued"
    assert at_simulator.calls()[0].session_id == answer["entries"][0]["sessionId"]


def test_sdk_aimed_at_real_at_fails_even_if_swallowed(at_simulator):
    africastalking.Voice._baseUrl = "https://voice.africastalking.com"
    try:
        africastalking.Voice.call(at_simulator.phone_number, ["+254711082001"])
    except Exception:
        pass  # the code under test swallows it; the fixture must still fail the test


def test_any_client_resolving_at_is_blocked(at_simulator):
    # Raises at once (and the fixture then fails the test at teardown).
    with pytest.raises(RealAfricasTalkingBlocked):
        socket.getaddrinfo("api.africastalking.com", 443)


def test_seed_option_makes_ids_deterministic(at_simulator):
    answer = africastalking.Voice.call(at_simulator.phone_number, ["+254711082001"])
    print("SESSION", answer["entries"][0]["sessionId"])


def test_strict_option(at_simulator):
    print("STRICT", at_simulator.backend.config.strict)
"""


def run_inner_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(INNER_TESTS, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "-rf", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_plugin_serves_the_sdk_and_guards_the_real_at(tmp_path: Path) -> None:
    result = run_inner_pytest(tmp_path, "--atsim-seed", "21")
    output = result.stdout + result.stderr
    # Every attempt to reach AT is an error of its test, raised or swallowed.
    assert "5 passed, 2 errors" in output, output
    assert "ERROR at teardown of test_sdk_aimed_at_real_at_fails_even_if_swallowed" in output
    assert (
        "blocked a request to the real Africa's Talking: https://voice.africastalking.com/call"
        in output
    )
    assert "ERROR at teardown of test_any_client_resolving_at_is_blocked" in output
    assert "blocked resolving the real Africa's Talking host api.africastalking.com" in output


def test_the_seed_option_makes_session_ids_repeat(tmp_path: Path) -> None:
    runs = [run_inner_pytest(tmp_path, "--atsim-seed", "21", "-k", "seed") for _ in range(2)]
    sessions = [line for run in runs for line in run.stdout.splitlines() if "SESSION" in line]
    assert len(sessions) == 2 and sessions[0] == sessions[1], runs[0].stdout


def test_the_strict_option_and_ini_key_reach_the_simulator(tmp_path: Path) -> None:
    default = run_inner_pytest(tmp_path, "-k", "strict")
    flagged = run_inner_pytest(tmp_path, "-k", "strict", "--atsim-strict")
    (tmp_path / "pytest.ini").write_text("[pytest]\natsim_strict = true\n", encoding="utf-8")
    from_ini = run_inner_pytest(tmp_path, "-k", "strict")
    assert "STRICT False" in default.stdout, default.stdout + default.stderr
    assert "STRICT True" in flagged.stdout, flagged.stdout + flagged.stderr
    assert "STRICT True" in from_ini.stdout, from_ini.stdout + from_ini.stderr
