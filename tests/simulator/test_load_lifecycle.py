"""A real ``atsim serve`` with thousands of calls live: the admin API still answers, and a
reset or a shutdown ends them all without hanging or leaking.

The calls are held live by :mod:`tests.simulator.holding_app` (GetDigits, Record or Dial, an
hour each, with phone users who stay) and some by an app that never answers, so a few hundred
webhooks are in flight when the reset or the SIGTERM comes. Time runs 20 times fast so the
phones ring and pick up within the test's bounds; nothing else differs from real time.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from at_voice_kit.simulator.client.remote import SimulatorClient
from at_voice_kit.simulator.delivery.http_delivery import MAX_KEEPALIVE_CONNECTIONS
from tests.simulator.atsim_process import AtsimProcess, ProcessStats, atsim_serve, process_stats
from tests.simulator.holding_app import DIAL, HoldingApp, hold_answer

pytestmark = pytest.mark.e2e

HOLDING_CALLS = 1500
HANGING_CALLS = 300
"""Calls whose webhook is in flight (the app never answers) when the reset comes."""
BATCH = 300
HOLD_NUMBER, HANG_NUMBER, SAY_NUMBER = "+254711082000", "+254711082001", "+254711082002"
ADMIN_TIMEOUT_SECONDS = 30.0
"""A liveness bound, not a speed target: a blocked event loop misses it by far (minutes);
generous, because the suite shares two cores with other processes."""
SETTLE_SECONDS = 120.0
FD_SLACK = 2 * MAX_KEEPALIVE_CONNECTIONS + 8
"""Idle keep-alive connections to the app may stay pooled after a reset (for the next calls);
httpx trims them to its limit lazily, so a few over it may linger. A leak of the hanging
webhooks' connections would be hundreds."""


def phone_users(count: int, first: int) -> list[str]:
    return [f"+2547{first + i:08d}" for i in range(count)]


@pytest.fixture
def app() -> Iterator[HoldingApp]:
    with HoldingApp() as holding:
        yield holding


@pytest.fixture
def simulator(app: HoldingApp, tmp_path: Path) -> Iterator[AtsimProcess]:
    config = tmp_path / "atsim.yaml"
    config.write_text(
        "accounts:\n"
        '  - {username: sandbox, apiKey: atsim-sandbox-key, balance: "10000000.00"}\n'
        "numbers:\n"
        f'  - {{phoneNumber: "{HOLD_NUMBER}", callbackUrl: "{app.url}/hold",'
        f' eventsUrl: "{app.url}/events"}}\n'
        f'  - {{phoneNumber: "{HANG_NUMBER}", callbackUrl: "{app.url}/hang"}}\n'
        f'  - {{phoneNumber: "{SAY_NUMBER}", callbackUrl: "{app.url}/say"}}\n'
        "defaultCallee: {answer: answered, hangupAfter: 3600, speechSeconds: 3600}\n"
        "webhookTimeout: 120\n"
    )
    with atsim_serve("--config", str(config), "--speed", "20", "--seed", "3") as atsim:
        yield atsim


def place_load(sim: SimulatorClient, app: HoldingApp, first: int) -> int:
    """Place the holding and hanging calls, wait until every one reached its app; return
    how many calls (legs) will then be live: each Dial adds the agent's leg."""
    already = app.first_requests
    holding = phone_users(HOLDING_CALLS, first)
    hanging = phone_users(HANGING_CALLS, first + HOLDING_CALLS)
    for number, users in ((HOLD_NUMBER, holding), (HANG_NUMBER, hanging)):
        for start in range(0, len(users), BATCH):
            answer = sim.place_call(number, users[start : start + BATCH])
            assert {e["status"] for e in answer["entries"]} == {"Queued"}
    wanted = already + HOLDING_CALLS + HANGING_CALLS
    deadline = time.monotonic() + SETTLE_SECONDS
    while app.first_requests < wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    assert app.first_requests == wanted, dict(app.by_path)
    dialled = sum(hold_answer(user) == DIAL for user in holding)
    return HOLDING_CALLS + HANGING_CALLS + dialled


def admin_get(atsim: AtsimProcess, path: str) -> httpx.Response:
    response = httpx.get(f"{atsim.url}/_simulator/{path}", timeout=ADMIN_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    return response


def wait_for_live_calls(atsim: AtsimProcess, expected: int) -> int:
    """Wait (bounded) until the agents' legs of the Dials are live too; the live count."""
    deadline = time.monotonic() + SETTLE_SECONDS
    live = admin_get(atsim, "health").json()["liveCalls"]
    while live != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        live = admin_get(atsim, "health").json()["liveCalls"]
    return int(live)


def wait_for_fds(pid: int, at_most: int) -> ProcessStats:
    deadline = time.monotonic() + SETTLE_SECONDS  # ends as soon as they are closed
    stats = process_stats(pid)
    while stats.open_fds > at_most and time.monotonic() < deadline:
        time.sleep(0.1)
        stats = process_stats(pid)
    return stats


def test_the_admin_api_answers_and_a_reset_ends_everything_under_load(
    simulator: AtsimProcess, app: HoldingApp
) -> None:
    pid = simulator.process.pid
    with SimulatorClient(simulator.url, client=httpx.Client(timeout=30)) as sim:
        idle = process_stats(pid)
        expected = place_load(sim, app, 20_000_000)
        assert wait_for_live_calls(simulator, expected) == expected
        loaded = process_stats(pid)
        # The hanging webhooks hold their connections open: the reset has work to do.
        assert loaded.open_fds >= idle.open_fds + HANGING_CALLS

        calls = admin_get(simulator, "calls").json()["calls"]
        assert sum(call["phase"] != "ended" for call in calls) == expected
        one = admin_get(simulator, f"calls/{calls[0]['sessionId']}").json()
        assert one["phase"] == "active" and one["webhooks"]

        reset = httpx.post(f"{simulator.url}/_simulator/reset", timeout=ADMIN_TIMEOUT_SECONDS)
        assert reset.status_code == 200
        health = admin_get(simulator, "health").json()
        assert (health["calls"], health["liveCalls"]) == (0, 0)
        after = wait_for_fds(pid, idle.open_fds + FD_SLACK)
        assert after.open_fds <= idle.open_fds + FD_SLACK, (idle, loaded, after)
        assert after.threads == idle.threads
        assert app.final_requests == 0  # nothing more is sent for a call that was reset

        # The platform carries on: a new call is placed and runs to its end.
        entry = sim.place_call(SAY_NUMBER, ["+254722000001"])["entries"][0]
        call = sim.wait_for_end(entry["sessionId"], 60)
        assert call["outcome"]["status"] == "Success"
        assert [w["status"] for w in call["webhooks"]] == [200, 200]
    assert "Traceback" not in simulator.stderr(), simulator.stderr()


def test_sigterm_under_load_stops_promptly_and_cleanly(
    simulator: AtsimProcess, app: HoldingApp
) -> None:
    with SimulatorClient(simulator.url, client=httpx.Client(timeout=30)) as sim:
        place_load(sim, app, 30_000_000)
    simulator.process.send_signal(signal.SIGTERM)
    assert simulator.process.wait(timeout=30) == 0
    assert app.final_requests == 0
    assert "Traceback" not in simulator.stderr(), simulator.stderr()
