"""Answers with problems AT most plausibly lives with: the call goes on as AT would carry it.

The actions AT knows run in order, an element it does not have is skipped, and every problem
is journaled with its severity (the call's timeline, its record, the webhook's note). With
``EngineOptions(strict=True)`` any problem ends the call as an app failure instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from at_voice_kit.contracts.actionxml import Severity
from at_voice_kit.simulator.engine import EngineOptions
from at_voice_kit.simulator.engine.records import PROBLEMS_KEPT
from tests.simulator.engine.harness import USER, EngineHarness, answering

AT_EXAMPLE_BALANCE = (
    '<?xml version="1.0" encoding="UTF-8"?><Response> '
    '<Say voice="man" playBeep="false">Your balance is 1234 Shillings</Say> <Reject/> </Response>'
)
"""The answer AT's own example app (africastalking-python, example/webApp.py) gives after its
menu, in the same shape: a Say, then Reject, spaces between the elements."""

MENU = '<GetDigits numDigits="1" timeout="10"><Say>Press 1 for your balance</Say></GetDigits>'


def balance_app(form: Mapping[str, str]) -> str:
    """Asks for a key, answers AT's example balance document to it."""
    if form["isActive"] == "0":
        return "OK"
    if "dtmfDigits" in form:
        return AT_EXAMPLE_BALANCE
    return f"<Response>{MENU}</Response>"


def test_at_example_say_then_reject_is_spoken_then_hung_up_with_one_warning() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered", digits=["1"])
    h.app(balance_app)
    record = h.call()
    _first, balance, final = h.callbacks(record.session_id)
    assert balance.request.form()["dtmfDigits"] == "1"
    assert balance.note == "ActionXML problems, carried on as AT would: 1 warning"
    # The caller heard the balance (the Say ran), then AT hung up (the Reject ran).
    assert any(text.startswith("Say (30 characters)") for _, text in record.timeline)
    assert (record.ending.state.value, record.ending.status.value) == ("Completed", "Success")
    assert record.ending.cause.value == "CALL_REJECTED"
    assert record.app_failure is None and not record.app_failed
    assert (record.errors, record.warnings) == (0, 1)
    (problem,) = record.problems
    assert (problem.severity, problem.rule) == (Severity.WARNING, "reject-not-alone")
    assert any(text.startswith("warning: 1: Response/Reject[1]") for _, text in record.timeline)
    assert final.note == "Reject on an answered call: AT hung up"


def test_the_same_answer_in_strict_mode_is_an_app_failure() -> None:
    h = EngineHarness(options=EngineOptions(strict=True))
    h.script(USER, answer="answered", digits=["1"])
    h.app(balance_app)
    record = h.call()
    _first, balance, _final = h.callbacks(record.session_id)
    assert balance.note is not None
    assert balance.note.startswith("ActionXML invalid: warning: 1: Response/Reject[1]")
    assert record.ending.status.value == "Aborted"
    assert record.app_failure == balance.note and record.app_failed
    assert (record.errors, record.warnings) == (0, 1)


def test_an_unknown_element_is_skipped_and_the_menu_behind_it_still_runs() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered", digits=["1"])
    h.app(
        answering(
            f"<Response><Say>Welcome</Say><Hangup/><CollectDigits/>{MENU}</Response>",
            "<Response><Say>Goodbye</Say></Response>",
        )
    )
    record = h.call()
    first, after_menu, _final = h.callbacks(record.session_id)
    # The GetDigits behind the two unknown elements ran: the key reached the app.
    assert after_menu.request.form()["dtmfDigits"] == "1"
    assert first.note == "ActionXML problems, carried on as AT would: 2 errors"
    assert [p.rule for p in record.problems] == ["unknown-element", "unknown-element"]
    assert (record.errors, record.warnings) == (2, 0)
    # The call went on, but the app does not work on AT as written.
    assert record.app_failure is None and record.app_failed
    assert record.ending.status.value == "Success"


def test_an_inbound_answer_whose_usable_part_is_reject_rejects_the_call() -> None:
    h = EngineHarness()
    h.app(answering("<Response><Hangup/><Reject/></Response>"))
    record = h.dial_in()
    assert record.ending.state.value == "NotAnswered"
    assert record.ending.cause.value == "CALL_REJECTED"
    assert [p.rule for p in record.problems] == ["unknown-element", "reject-not-alone"]


def test_problems_are_kept_bounded_and_counted_in_full() -> None:
    """A Redirect loop repeats a warning on every answer: the record keeps the first ones."""
    h = EngineHarness()
    h.script(USER, answer="answered", hangupAfter=3000)

    def loop(form: Mapping[str, str]) -> str:
        if form["isActive"] == "0":
            return ""
        return "<Response><Say voice='robot'>again</Say><Redirect>http://app.test/voice</Redirect></Response>"

    h.app(loop)
    record = h.call(events=False)
    assert record.warnings > PROBLEMS_KEPT
    assert len(record.problems) == PROBLEMS_KEPT
    assert {p.rule for p in record.problems} == {"bad-value"}


def test_a_url_the_call_would_be_sent_to_that_no_request_can_reach_is_an_app_failure() -> None:
    """AT would try the Redirect (or post the digits to the callbackUrl) and fail."""
    for document in (
        "<Response><Say>Moving on</Say><Redirect>http://app:port/next</Redirect></Response>",
        "<Response><GetDigits numDigits='1' callbackUrl='ftp://a/b'><Say>Press 1</Say>"
        "</GetDigits></Response>",
    ):
        h = EngineHarness()
        h.script(USER, answer="answered", digits=["1"])
        h.app(answering(document))
        record = h.call(events=False)
        assert record.ending.status.value == "Aborted", document
        assert record.app_failure is not None
        assert record.app_failure.startswith("ActionXML invalid: error:")


SSML_BALANCE = (
    '<Response><Say voice="woman"><speak>Your balance is '
    '<say-as interpret-as="currency" language="en-US">$100</say-as>'
    '<break time="500ms"/>Goodbye</speak></Say></Response>'
)
"""A Say in SSML, as the africastalking-laravel SDK writes it: a note, not a problem."""


def test_ssml_in_say_is_spoken_as_its_text_with_no_problem_even_when_strict() -> None:
    for options in (EngineOptions(), EngineOptions(strict=True)):
        h = EngineHarness(options=options)
        h.script(USER, answer="answered")
        h.app(answering(SSML_BALANCE))
        record = h.call()
        spoken = len("Your balance is $100Goodbye")
        assert any(text.startswith(f"Say ({spoken} characters)") for _, text in record.timeline)
        assert record.problems == () and (record.errors, record.warnings) == (0, 0)
        assert record.app_failure is None and not record.app_failed
