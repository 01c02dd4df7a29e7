"""A charset that is no charset must not freeze a real ``atsim serve`` or ``atsim verify``.

Python's punycode decoder is quadratic. Before the allow-list of
``at_voice_kit.contracts.charsets``: one 1 MB form body declared ``charset=punycode``, sent to
``/call`` without an API key, was answered after 198 s, every health probe failing meanwhile; an app
answering 999 KB of it held every call and the admin API for 192 s (the webhook timeout never fired:
decoding ran on the event loop after the read); ``atsim verify`` took 316 s for one scenario. The
bounds below are generous (the work now takes milliseconds), so they never flake.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from at_voice_kit.simulator.client.remote import SimulatorClient
from tests.simulator.atsim_process import atsim_command, atsim_serve
from tests.simulator.misbehaving_apps import MisbehavingApps

pytestmark = pytest.mark.e2e

PUNYCODE_MEGABYTE = b"x" * 500_000 + b"-" + b"ba" * 250_000
PROMPT_SECONDS = 10.0
"""What 'at once' means here: the slow decoding took 190 s and more."""
PROBE_TIMEOUT = 5.0
AT_NUMBER = "+254711082000"


@pytest.fixture(scope="module")
def apps() -> Iterator[MisbehavingApps]:
    with MisbehavingApps() as served:
        yield served


def probe_while(url: str, busy: threading.Event) -> list[float | str]:
    """GET ``url`` every 0.2 s until ``busy`` clears: each probe's seconds, or its failure."""
    results: list[float | str] = []
    with httpx.Client(timeout=PROBE_TIMEOUT) as client:
        while busy.is_set():
            started = time.perf_counter()
            try:
                status = client.get(url).status_code
                results.append(time.perf_counter() - started if status == 200 else f"{status}")
            except httpx.HTTPError as exc:
                results.append(f"{type(exc).__name__} after {time.perf_counter() - started:.1f} s")
            time.sleep(0.2)
    return results


def in_background(work: Any) -> tuple[threading.Thread, threading.Event, list[Any]]:
    """Run ``work()`` in a thread; the event is set while it runs; its result lands in the list."""
    busy = threading.Event()
    busy.set()
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        finally:
            busy.clear()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, busy, outcome


def test_a_megabyte_punycode_form_is_refused_at_once_and_health_stays_up() -> None:
    with atsim_serve("--seed", "3", "--speed", "fast") as atsim:

        def post() -> tuple[httpx.Response, float]:
            started = time.perf_counter()
            answer = httpx.post(
                f"{atsim.url}/call",
                content=PUNYCODE_MEGABYTE,
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=punycode"},
                timeout=60,
            )
            return answer, time.perf_counter() - started

        thread, busy, outcome = in_background(post)
        probes = probe_while(f"{atsim.url}/_simulator/health", busy)
        thread.join(timeout=70)
        [(answer, seconds)] = outcome
    assert answer.status_code == 400, answer.text
    assert answer.text.startswith("The request content was malformed:\n")
    assert "charset 'punycode' is not supported" in answer.text
    assert seconds < PROMPT_SECONDS
    assert all(isinstance(probe, float) for probe in probes), probes


def test_an_app_answering_a_megabyte_of_punycode_blocks_no_call_nor_the_admin_api(
    apps: MisbehavingApps,
) -> None:
    with (
        atsim_serve("--seed", "4", "--speed", "fast") as atsim,
        SimulatorClient(atsim.url) as sim,
    ):
        punycode = {"username": "sandbox", "callbackUrl": f"{apps.url}/callback/punycode"}
        sim.admin("PUT", f"numbers/{AT_NUMBER}", punycode)
        sim.set_callee("+254711082001", {"answer": "answered"})
        sane = "+254711082100"
        sim.admin(
            "PUT", f"numbers/{sane}", {"username": "sandbox", "callbackUrl": f"{apps.url}/sane/ok"}
        )
        sim.set_callee("+254711082002", {"answer": "answered"})
        hostile = sim.place_call(AT_NUMBER, ["+254711082001"])["entries"][0]["sessionId"]
        healthy = sim.place_call(sane, ["+254711082002"])["entries"][0]["sessionId"]

        def wait() -> tuple[dict[str, Any], dict[str, Any], float]:
            started = time.perf_counter()
            ended = sim.wait_for_end(hostile, 60), sim.wait_for_end(healthy, 60)
            return *ended, time.perf_counter() - started

        thread, busy, outcome = in_background(wait)
        probes = probe_while(f"{atsim.url}/_simulator/calls", busy)
        thread.join(timeout=130)
        [(call, other, seconds)] = outcome
    assert seconds < 2 * PROMPT_SECONDS
    assert all(isinstance(probe, float) for probe in probes), probes
    first = next(w for w in call["webhooks"] if w["kind"] == "callback")
    # Read as UTF-8 (an unknown charset), it is no ActionXML AT could run: the call ends so.
    assert first["status"] == 200 and first["note"].startswith("ActionXML invalid"), first
    assert call["outcome"]["status"] == "Aborted"
    assert other["outcome"]["status"] == "Success", other["outcome"]


def test_verify_against_an_app_answering_punycode_finishes_at_once(
    apps: MisbehavingApps, tmp_path: Path
) -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [
            *atsim_command(), "verify", "--callback-url", f"{apps.url}/callback/punycode",
            "--no-events", "--only", "crawl", "--max-scenarios", "2", "--seed", "1",
            "--report", str(tmp_path / "junit.xml"),
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ERROR [actionxml-valid]" in result.stdout
    assert "Traceback" not in result.stderr
    assert seconds < 3 * PROMPT_SECONDS
