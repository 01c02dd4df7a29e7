"""A real ``atsim serve`` survives apps that misbehave in every way the catalogue knows.

One simulator process (virtual time, a 3 s webhook timeout) drives a call per fault against
:mod:`tests.simulator.misbehaving_apps`: once with the broken app as the callback URL, once as
the events URL (with a sane callback URL). Every call must end as AT would (the fidelity
table: the caller hears the error, AT hangs up, the final request is still sent), the journal
must say why, and afterwards the process must be healthy: health answers, no call is left
live, no descriptor leaked, its peak memory did not balloon on the 50 MB answers, and a new
call completes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from at_voice_kit.simulator.client.remote import SimulatorClient
from tests.simulator.atsim_process import ProcessStats, atsim_serve, process_stats
from tests.simulator.misbehaving_apps import HUGE_BODY_BYTES, MisbehavingApps

pytestmark = pytest.mark.e2e

WEBHOOK_TIMEOUT = "3"
"""Short enough that the hanging faults end soon, long enough that a sane app on a loaded
machine answers in time (1 s failed the gzip bomb under load: the app compressed 50 MB
inside the deadline)."""
WAIT_SECONDS = 150.0
PEAK_MEMORY_GROWTH_LIMIT_KIB = 40 * 1024
"""Less than one 50 MB answer: a simulator that buffered a huge body whole would exceed it."""
FD_SLACK = 4

CALLBACK_FAULTS: dict[str, str] = {
    "hang": "the app did not answer in time",
    "late": "the app did not answer in time",
    "trickle-body": "the app did not answer in time",
    "trickle-headers": "the app did not answer in time",
    "close": "the app could not be reached",
    "reset": "the app could not be reached",
    "not-http": "the app could not be reached",
    "reset-mid-answer": "the app's answer could not be read (HTTP 200",
    "truncated-body": "the app's answer could not be read (HTTP 200",
    "binary": "ActionXML invalid",
    "html": "ActionXML invalid",
    "json": "ActionXML invalid",
    "truncated-xml": "ActionXML invalid",
    "huge": "the app's answer is too large",
    "gzip-bomb": "the app's answer is too large",
    "redirect-loop": "the app answered HTTP 302",
    "404": "the app answered HTTP 404",
    "500": "the app answered HTTP 500",
    "503": "the app answered HTTP 503",
}
"""Broken callback URL -> the start of the journal's note on its answer."""

LENIENT_FAULTS = ("not-utf8", "bogus-charset", "unicode-escape", "utf-7")
"""Answers in a wrong or unknown charset: read leniently (UTF-8, bad bytes replaced). A
codec that is no charset is never applied: ``unicode_escape`` and ``utf-7`` turned a valid
answer into lone surrogates, kept in the journal, and the call failed on it."""

EVENTS_FAULTS: dict[str, str | None] = {
    **CALLBACK_FAULTS,
    # An events URL's answer body is not read as ActionXML: any 2xx is fine.
    "binary": None,
    "html": None,
    "json": None,
    "truncated-xml": None,
}
"""Broken events URL -> the start of the journal's note on each event (None: no failure)."""


@dataclass
class FaultRun:
    """Everything the tests look at, gathered once for the module."""

    apps: MisbehavingApps
    calls: dict[str, dict[str, Any]]
    """``callback/<fault>`` and ``events/<fault>`` -> the ended call with its journal."""
    before: ProcessStats
    after: ProcessStats
    health: dict[str, Any]
    healthy_call: dict[str, Any]


def at_number(index: int) -> str:
    return f"+2547110821{index:02d}"


def phone_user(index: int) -> str:
    return f"+2547220001{index:02d}"


def healthy_call(sim: SimulatorClient, apps: MisbehavingApps, index: int) -> dict[str, Any]:
    """A call to a sane app, waited for."""
    number = at_number(index)
    settings = {"callbackUrl": f"{apps.url}/sane/ok", "eventsUrl": f"{apps.url}/sane/events-ok"}
    sim.admin("PUT", f"numbers/{number}", {"username": "sandbox", **settings})
    sim.set_callee(phone_user(index), {"answer": "answered"})
    entry = sim.place_call(number, [phone_user(index)])["entries"][0]
    return sim.wait_for_end(entry["sessionId"], WAIT_SECONDS)


def place_fault_calls(sim: SimulatorClient, apps: MisbehavingApps) -> dict[str, str]:
    """One call per fault and URL, all at once; returns scenario -> session id."""
    scenarios = [f"callback/{fault}" for fault in (*CALLBACK_FAULTS, *LENIENT_FAULTS)]
    scenarios += [f"events/{fault}" for fault in EVENTS_FAULTS]
    sessions: dict[str, str] = {}
    for index, scenario in enumerate(scenarios, start=10):
        kind, _ = scenario.split("/")
        if kind == "callback":
            settings = {"callbackUrl": f"{apps.url}/{scenario}", "eventsUrl": None}
        else:
            settings = {"callbackUrl": f"{apps.url}/sane/ok", "eventsUrl": f"{apps.url}/{scenario}"}
        sim.admin("PUT", f"numbers/{at_number(index)}", {"username": "sandbox", **settings})
        sim.set_callee(phone_user(index), {"answer": "answered"})
    for index, scenario in enumerate(scenarios, start=10):
        entry = sim.place_call(at_number(index), [phone_user(index)])["entries"][0]
        assert entry["status"] == "Queued", entry
        sessions[scenario] = entry["sessionId"]
    return sessions


def wait_until_all_ended(sim: SimulatorClient, sessions: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    wanted = set(sessions.values())
    while time.monotonic() < deadline:
        calls = {c["sessionId"]: c for c in sim.admin("GET", "calls")["calls"]}
        if all(calls[sid]["phase"] == "ended" for sid in wanted):
            return {scenario: sim.call(sid) for scenario, sid in sessions.items()}
        time.sleep(0.2)
    live = {s: calls[sid]["phase"] for s, sid in sessions.items() if calls[sid]["phase"] != "ended"}
    raise AssertionError(f"calls still live after {WAIT_SECONDS:g} s: {live}")


@pytest.fixture(scope="module")
def fault_run() -> Iterator[FaultRun]:
    with (
        MisbehavingApps() as apps,
        atsim_serve(
            "--speed", "fast", "--seed", "5", "--webhook-timeout", WEBHOOK_TIMEOUT
        ) as atsim,
        SimulatorClient(atsim.url) as sim,
    ):
        healthy_call(sim, apps, 1)  # warm up: imports, first connections, allocator arenas
        before = process_stats(atsim.process.pid)
        calls = wait_until_all_ended(sim, place_fault_calls(sim, apps))
        after = process_stats(atsim.process.pid)
        health = sim.admin("GET", "health")
        fresh = healthy_call(sim, apps, 2)
        yield FaultRun(apps, calls, before, after, health, fresh)
        assert "Traceback" not in atsim.stderr(), atsim.stderr()


def callbacks(call: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in call["webhooks"] if w["kind"] == "callback"]


def events(call: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in call["webhooks"] if w["kind"] == "event"]


@pytest.mark.parametrize("fault", sorted(CALLBACK_FAULTS))
def test_a_broken_callback_url_ends_the_call_as_at_does(fault_run: FaultRun, fault: str) -> None:
    call = fault_run.calls[f"callback/{fault}"]
    outcome = call["outcome"]
    # The caller hears AT's error message and AT hangs up (fidelity table).
    assert (outcome["callSessionState"], outcome["status"], outcome["hangupCause"]) == (
        "Completed", "Aborted", "NORMAL_CLEARING",
    )  # fmt: skip
    first, *_, final = callbacks(call)
    assert first["note"].startswith(CALLBACK_FAULTS[fault]), first
    assert outcome["reason"] == f"app failure: {first['note']}"
    # The final request is still sent, to the same broken app, which received it.
    assert final["form"]["isActive"] == "0" and final["form"]["status"] == "Aborted"
    received = fault_run.apps.requests_to(f"/callback/{fault}")
    assert [r.form["isActive"] for r in received] == ["1", "0"]  # no retries, no redirects
    if CALLBACK_FAULTS[fault].startswith("the app did not answer"):
        assert first["timedOut"] is True and first["status"] is None


@pytest.mark.parametrize("fault", LENIENT_FAULTS)
def test_an_answer_in_a_wrong_charset_is_read_leniently(fault_run: FaultRun, fault: str) -> None:
    call = fault_run.calls[f"callback/{fault}"]
    assert call["outcome"]["status"] == "Success", call["outcome"]
    assert "<Response>" in callbacks(call)[0]["body"]


@pytest.mark.parametrize("fault", sorted(EVENTS_FAULTS))
def test_a_broken_events_url_never_breaks_the_call(fault_run: FaultRun, fault: str) -> None:
    call = fault_run.calls[f"events/{fault}"]
    assert call["outcome"]["status"] == "Success", call["outcome"]
    assert all(c["status"] == 200 for c in callbacks(call))
    posted = events(call)
    assert [e["form"]["eventType"] for e in posted] == [
        "SessionStarted", "SessionRinging", "SessionAnswered", "SessionEnded",
    ]  # fmt: skip
    expected = EVENTS_FAULTS[fault]
    for event in posted:
        if expected is None:
            assert event["note"] is None and event["status"] == 200, event
        else:
            assert event["note"] is not None and event["note"].startswith(expected), event
    # Every event reached the app, once: a failure is journaled, never retried.
    assert len(fault_run.apps.requests_to(f"/events/{fault}")) == 4


def test_huge_answers_are_not_read_whole(fault_run: FaultRun) -> None:
    exchanges = len(fault_run.apps.requests_to("/callback/huge")) + len(
        fault_run.apps.requests_to("/events/huge")
    )
    assert exchanges == 6
    # The app could not push its 50 MB through: the simulator stopped reading and hung up.
    assert fault_run.apps.sent["/callback/huge"] + fault_run.apps.sent["/events/huge"] < (
        exchanges * HUGE_BODY_BYTES // 2
    )
    journaled = callbacks(fault_run.calls["callback/huge"])[0]["body"]
    assert 0 < len(journaled) <= 4096  # the journal keeps a preview, not the megabyte
    growth = fault_run.after.peak_rss_kib - fault_run.before.peak_rss_kib
    assert growth < PEAK_MEMORY_GROWTH_LIMIT_KIB, (fault_run.before, fault_run.after)


def test_the_simulator_stays_healthy(fault_run: FaultRun) -> None:
    assert fault_run.health["status"] == "ok"
    assert fault_run.health["liveCalls"] == 0
    assert fault_run.after.open_fds <= fault_run.before.open_fds + FD_SLACK, (
        fault_run.before,
        fault_run.after,
    )
    fresh = fault_run.healthy_call
    assert fresh["outcome"]["status"] == "Success"
    assert all(w["status"] == 200 and w["error"] is None for w in fresh["webhooks"])
    assert fresh["outcome"]["reason"] == "no more actions: AT hung up"
