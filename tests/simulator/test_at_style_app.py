"""An app that answers the way AT's own example app does (no XML declaration, spaces between
the elements, text/html, Say then Reject after the menu) works on AT: the simulator carries its
calls to the end as AT would, and atsim verify finds no error in it, in-process or through the
console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import africastalking
import pytest

from at_voice_kit.contracts.actionxml import Rule
from at_voice_kit.simulator.testing.harness import AtSimulator
from at_voice_kit.simulator.verify import Check, Target, VerifyOptions, verify
from tests.simulator.at_style_app import BALANCE, PATH, AtStyleApp
from tests.simulator.verify.servers import serve_wsgi

ATSIM = str(Path(sys.executable).with_name("atsim"))
USER = "+254711082369"

# initialize("sandbox", ...) builds the SDK's WhatsApp service too, which warns it has no sandbox.
pytestmark = pytest.mark.filterwarnings("ignore:Sandbox is currently not available:UserWarning")


def test_verify_finds_no_error_and_says_what_is_fragile() -> None:
    app = AtStyleApp()
    report = verify(Target.in_process(app, callback_url=PATH, events=False), VerifyOptions(seed=1))
    assert report.ok and report.errors == [], report.summary()
    warnings = {(g.check, g.example.finding.problem.rule if g.example.finding.problem else None)
                for g in report.warnings}  # fmt: skip
    assert warnings == {
        (Check.NOTHING_AFTER_TERMINAL, Rule.REJECT_NOT_ALONE),
        (Check.CONTENT_TYPE, None),
    }, report.summary()
    # The crawl reached the ending: the balance was spoken (then the call rejected).
    balance_answers = [
        exchange
        for result in report.results
        for exchange in result.exchanges
        if exchange.answer.body == BALANCE
    ]
    assert balance_answers
    assert report.summary().startswith("atsim verify: OK - no problems")


def test_the_console_script_passes_it_over_http() -> None:
    with serve_wsgi(AtStyleApp()) as url:
        run = subprocess.run(
            [ATSIM, "verify", "--callback-url", url + PATH, "--no-events", "--seed", "2",
             "--quick"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout
    assert run.stdout.startswith("atsim verify: OK - no problems"), run.stdout


def test_the_simulator_carries_the_call_as_at_would(at_simulator: AtSimulator) -> None:
    assert at_simulator.phone_number is not None
    app = AtStyleApp()
    with serve_wsgi(app) as url:
        at_simulator.set_number(at_simulator.phone_number, callback_url=url + PATH)
        at_simulator.set_callee(USER, digits=["4711#", "1#"], hangup_after=120)
        [entry] = africastalking.Voice.call(at_simulator.phone_number, [USER])["entries"]
        call = at_simulator.wait_for_call(entry["sessionId"])
    record = call.record
    assert record is not None
    # The balance was spoken, then AT hung up on the Reject: no app failure.
    assert [form.get("dtmfDigits") for form in app.received] == [None, "4711", "1", None]
    assert (record.ending.status.value, record.ending.cause.value) == ("Success", "CALL_REJECTED")
    assert record.app_failure is None, record.app_failure
