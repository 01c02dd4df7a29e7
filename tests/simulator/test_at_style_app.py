"""An app that answers the way AT's own example app does (no XML declaration, spaces between
the elements, text/html, Say then Reject after the menu) works on AT: atsim verify finds no
error in it, in-process or through the console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from at_voice_kit.contracts.actionxml import Rule
from at_voice_kit.simulator.verify import Check, Target, VerifyOptions, verify
from tests.simulator.at_style_app import BALANCE, PATH, AtStyleApp
from tests.simulator.verify.servers import serve_wsgi

ATSIM = str(Path(sys.executable).with_name("atsim"))


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
