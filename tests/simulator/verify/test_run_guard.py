"""A verdict in bounded time, and one root cause: an app that dies is named once, an app
that answers nothing in time stops the run within two timeouts, and --max-time bounds any run;
each report says what was not run."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from at_voice_kit.simulator.verify import (
    Answer,
    Category,
    Check,
    Exchange,
    Origin,
    Role,
    SentRequest,
    Target,
    VerifyOptions,
    verify,
)
from at_voice_kit.simulator.verify.run_guard import STALLED_TIMEOUTS, RunGuard
from tests.simulator.verify.app_process import app_process
from tests.simulator.verify.webhook_apps import IvrApp, Reply, Request

ATSIM = str(Path(sys.executable).with_name("atsim"))
CALL = frozenset({Category.CRAWL})


def test_an_app_that_crashes_is_named_once_as_the_root_cause() -> None:
    with app_process("crashes-on-key-3") as (process, url):
        target = Target.from_base_url(url + "/voice", events=False)
        # One call at a time: the request that killed the app is the first to fail.
        report = verify(target, VerifyOptions(seed=4, concurrency=1))
        assert process.wait(timeout=10) == 1  # it really died
    assert [group.check for group in report.errors] == [Check.REACHABLE], report.summary()
    [root] = report.errors
    assert root.is_root_cause
    crash = root.example.finding.exchange
    assert root.example.result.id == "crawl/outbound/3"
    assert crash.request.field("dtmfDigits") == "3"
    assert "stopped accepting connections" in root.headline
    assert report.stopped == "the app stopped accepting connections"
    summary = report.summary()
    assert "ERROR (root cause) [reachable]" in summary
    assert "dtmfDigits=3" in summary  # the request that crashed it, to reproduce
    not_run = [u for u in report.unreached if u.reason.startswith("not run: verify stopped")]
    assert {u.where.split("/")[0] for u in not_run} == {
        "crawl", "outcomes", "hangups", "markets", "optional-fields", "generated"
    }  # fmt: skip
    assert report.to_json()["stoppedEarly"] == report.stopped


def test_an_app_answering_nothing_in_time_gets_a_verdict_in_bounded_time() -> None:
    # AT waits 10 s; the app answers after 12. Scaled down: verify waits 1 s, the app 1.5 s.
    with app_process("too-late") as (_, url):
        run = subprocess.run(
            [ATSIM, "verify", url + "/voice", "--seed", "1", "--timeout", "1"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    # Two timeouts without an answer stop the run (3 s here); it ran for 118 s before.
    took = re.search(r"requests in ([0-9.]+) s;", run.stdout)
    assert took is not None and float(took[1]) < 30, run.stdout
    first = run.stdout.splitlines()[0]
    assert first.startswith("atsim verify: FAILED - 1 problem (1 error, 0 warnings)")
    assert "stopped early: the app's callback and events URLs answered nothing in time" in first
    assert "ERROR (root cause) [answered-in-time]" in run.stdout
    assert "planned scenarios were not run" in run.stdout


def test_max_time_bounds_the_run_and_the_report_says_what_was_not_run() -> None:
    class Leisurely(IvrApp):
        def route(self, request: Request) -> Reply:
            time.sleep(0.05)
            return super().route(request)

    report = verify(Target.in_process(Leisurely(), "/voice"), VerifyOptions(seed=2, max_time=1))
    assert report.duration < 15  # the whole plan takes minutes at this pace
    assert report.stopped == "--max-time 1 s ran out"
    assert report.ok, report.summary()  # nothing found in the time given, and it says so
    assert "stopped early: --max-time 1 s ran out" in report.summary().splitlines()[0]
    reasons = {u.reason for u in report.unreached}
    assert "not run: verify stopped the run (--max-time 1 s ran out)" in reasons


def test_max_time_must_be_positive() -> None:
    run = subprocess.run(
        [ATSIM, "verify", "http://127.0.0.1:9/voice", "--max-time", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--max-time: must be more than 0 seconds" in run.stderr


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _exchange(index: int, role: Role, answer: Answer, sent_at: float) -> Exchange:
    request = SentRequest("http://127.0.0.1:8000/voice/instruct", ())
    return Exchange(index, role, Origin.SIMULATED, request, answer, None, sent_at)


LATE = Answer(None, error="no answer within 10 s", timed_out=True)


@pytest.mark.parametrize("answered_between", [True, False])
def test_only_an_app_silent_for_two_whole_timeouts_stops_the_run(answered_between: bool) -> None:
    async def run() -> RunGuard:
        clock = FakeClock()
        guard = RunGuard(Target("http://127.0.0.1:8000/voice/instruct"), timeout=10, clock=clock)
        for index in range(1, 6):
            clock.now += 10
            await guard.observe(_exchange(index, Role.LIVE, LATE, clock.now - 10), "s")
            if answered_between:  # a slow branch, but the app answers the rest in time
                await guard.observe(_exchange(index, Role.FINAL, Answer(200), clock.now), "s")
        return guard

    guard = asyncio.run(run())
    assert guard.stopped is not answered_between
    if not answered_between:
        assert guard.root_cause is not None
        assert guard.root_cause.exchange.index == 1  # the first of the silent requests
        assert f"for {STALLED_TIMEOUTS * 10} s" in guard.root_cause.headline
