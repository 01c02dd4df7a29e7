"""``atsim call`` and ``atsim dial`` exit codes a CI run can trust, against ``atsim serve`` as a
real process and apps served over HTTP.

Exit 0: the app works on AT (warnings are printed). Exit 1: the call was not placed, the app
failed it (an answer that is not ActionXML, an error status), or an answer had ActionXML
errors (the call went on past them as AT would); warnings too with ``--strict``. ``atsim serve
--strict`` ends the call itself on any problem.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest

from at_voice_kit.simulator.testing.wsgi_server import serve_wsgi_app
from tests.simulator.atsim_process import AtsimProcess, atsim_command, atsim_serve

pytestmark = pytest.mark.e2e

AT_EXAMPLE_CALLER = "+254711082369"
UNKNOWN_ELEMENT_CALLER = "+254711082370"
NOT_XML_CALLER = "+254711082371"
AT_NUMBER = "+254711082000"


class AtStyleApp:
    """Answers the way AT's own example app does: ``text/html`` (Flask's default), no XML
    declaration, spaces between elements, a menu, then Say and Reject after the key.

    Two other callers get a broken app: an element AT does not have before the menu, or an
    answer that is not XML at all.
    """

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        with self._lock:
            self.forms.append(form)
        start("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [self.answer(form).encode()]

    @staticmethod
    def answer(form: dict[str, str]) -> str:
        if form.get("isActive") != "1":
            return "OK"
        caller = form.get("callerNumber")
        if caller == NOT_XML_CALLER:
            return "Sorry, something went wrong"
        if form.get("dtmfDigits"):
            return (
                '<Response> <Say voice="man">Your balance is 1234 Shillings</Say> <Reject/> '
                "</Response>"
            )
        menu = (
            '<GetDigits numDigits="1" timeout="10"> <Say>Press 1 for your balance</Say> '
            "</GetDigits>"
        )
        hangup = "<Hangup/> " if caller == UNKNOWN_ELEMENT_CALLER else ""
        return f"<Response> {hangup}{menu} </Response>"


@pytest.fixture(scope="module")
def app() -> Iterator[tuple[AtStyleApp, str]]:
    at_style = AtStyleApp()
    with serve_wsgi_app(at_style) as url:
        yield at_style, url


@pytest.fixture(scope="module")
def lenient(app: tuple[AtStyleApp, str]) -> Iterator[AtsimProcess]:
    with atsim_serve("--speed", "fast", "--callback-url", f"{app[1]}/voice") as sim:
        yield sim


def atsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*atsim_command(), *args], capture_output=True, text=True, timeout=120, check=False
    )


def call(sim: AtsimProcess, caller: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return atsim("call", "--url", sim.url, "--to", caller, "--digits", "1", *extra)


def test_an_app_answering_like_at_example_passes_with_its_warning_printed(
    lenient: AtsimProcess,
) -> None:
    done = call(lenient, AT_EXAMPLE_CALLER)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'Say "Your balance is 1234 Shillings", Reject' in done.stdout
    assert "!! ActionXML problems, carried on as AT would: 1 warning" in done.stdout
    assert "warning: 1: Response/Reject[1]" in done.stdout
    assert "ended: Reject on an answered call: AT hung up" in done.stdout
    assert done.stderr == ""


def test_strict_makes_the_warning_fail_the_run(lenient: AtsimProcess) -> None:
    done = call(lenient, AT_EXAMPLE_CALLER, "--strict")
    assert done.returncode == 1
    assert "atsim call: the app's ActionXML has 1 warning (--strict)" in done.stderr


def test_an_error_fails_the_run_though_the_call_went_on_past_it(
    app: tuple[AtStyleApp, str], lenient: AtsimProcess
) -> None:
    done = call(lenient, UNKNOWN_ELEMENT_CALLER)
    assert done.returncode == 1
    assert "atsim call: the app's ActionXML has 1 error (it fails on AT)" in done.stderr
    assert "error: 1: Response/Hangup[1]" in done.stdout
    # The menu behind <Hangup/> ran: the key reached the app.
    assert "isActive=1 dtmfDigits=1" in done.stdout
    assert any(
        f.get("callerNumber") == UNKNOWN_ELEMENT_CALLER and f.get("dtmfDigits") == "1"
        for f in app[0].forms
    )


def test_an_answer_that_is_not_actionxml_fails_the_run(lenient: AtsimProcess) -> None:
    done = call(lenient, NOT_XML_CALLER)
    assert done.returncode == 1
    assert "atsim call: the app failed the call: ActionXML invalid: error:" in done.stderr
    assert "ended: app failure: ActionXML invalid" in done.stdout


def test_atsim_serve_strict_ends_the_call_on_the_warning(app: tuple[AtStyleApp, str]) -> None:
    with atsim_serve("--speed", "fast", "--strict", "--callback-url", f"{app[1]}/voice") as sim:
        assert "ActionXML: strict" in sim.banner
        done = call(sim, AT_EXAMPLE_CALLER)
    assert done.returncode == 1
    assert "the app failed the call: ActionXML invalid: warning: 1: Response/Reject[1]" in (
        done.stderr
    )
    assert "Completed/Aborted" in done.stdout


def test_a_call_that_was_never_placed_fails_the_run() -> None:
    with atsim_serve("--speed", "fast") as sim:  # the number has no callback URL
        outbound = atsim("call", "--url", sim.url, "--to", AT_EXAMPLE_CALLER)
        inbound = atsim("dial", "--url", sim.url, "--from", AT_EXAMPLE_CALLER, "--to", AT_NUMBER)
    assert outbound.returncode == 1, outbound.stdout + outbound.stderr
    assert (
        f"atsim call: the call was not placed: not placed: AT number {AT_NUMBER} has no callback"
        in outbound.stderr
    )
    assert inbound.returncode == 1, inbound.stdout + inbound.stderr
    assert (
        f"atsim dial: the call was not placed: 409 Conflict: AT number {AT_NUMBER} has no "
        in inbound.stderr
    )


def test_atsim_call_forces_an_exact_hangup_cause(lenient: AtsimProcess) -> None:
    for cause in ("NO_ANSWER", "NO_USER_RESPONSE", "RECOVERY_ON_TIMER_EXPIRE"):
        done = atsim("call", "--url", lenient.url, "--to", "+254711082372", "--hangup-cause", cause)
        assert done.returncode == 0, done.stderr  # not answered: not the app's fault
        assert f"NotAnswered/NotAnswered {cause}" in done.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--answer", "busy", "--hangup-cause", "NO_ANSWER"],
            "argument --hangup-cause: NO_ANSWER goes with answer 'no-answer', not 'busy'",
        ),
        (["--hangup-cause", "LOSE_RACE"], "argument --hangup-cause: LOSE_RACE cannot be scripted"),
        (["--hangup-cause", "BUSY"], "argument --hangup-cause: 'BUSY' must be one of AT's 14"),
    ],
)
def test_an_impossible_hangup_cause_is_a_usage_error(options: list[str], message: str) -> None:
    done = atsim("call", "--url", "http://127.0.0.1:9", "--to", AT_EXAMPLE_CALLER, *options)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
