"""Broken apps: answers that are not ActionXML, error statuses, unreachable and slow apps.

AT cannot run the call on such an answer: the caller hears an error message, AT hangs up,
the final request is still sent, and the journal records why. (Answers with problems AT
most plausibly lives with are carried on: tests/simulator/engine/test_lenient_answers.py.)
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from at_voice_kit.simulator.engine import EngineOptions
from at_voice_kit.simulator.engine.memory import AppAnswer, AppUnreachable
from tests.simulator.engine.harness import APP, USER, EngineHarness, answering, xml


def failing_first(answer: object) -> object:
    def app(form: Mapping[str, str]) -> object:
        if form["isActive"] == "0":
            return "OK"
        if isinstance(answer, Exception):
            raise answer
        return answer

    return app


CASES = [
    ("not xml at all", "ActionXML invalid: error: 1: (document): not well-formed XML"),
    ("<Html><Body/></Html>", "ActionXML invalid: error: 1: Html: the root element must be `Res"),
    ("<Response>", "ActionXML invalid: error: 1: (document): not well-formed XML"),
    (AppAnswer(500, "Internal Server Error"), "the app answered HTTP 500"),
    (AppAnswer(404, ""), "the app answered HTTP 404"),
    (AppAnswer(302, ""), "the app answered HTTP 302"),
    (AppUnreachable("connection refused"), "the app could not be reached (connection refused)"),
    (AppUnreachable("read timeout", timed_out=True), "the app did not answer in time"),
]


@pytest.mark.parametrize(("answer", "why"), CASES)
def test_broken_first_answer_ends_the_call_with_an_error(answer: object, why: str) -> None:
    h = EngineHarness()
    h.script(USER, answer="answered")
    h.app(failing_first(answer))  # type: ignore[arg-type]
    record = h.call()
    exchanges = h.callbacks(record.session_id)
    assert len(exchanges) == 2
    first, final = exchanges
    assert first.note is not None and first.note.startswith(why)
    assert final.request.form()["isActive"] == "0"
    assert final.note == f"app failure: {first.note}"
    assert record.app_failure == first.note and record.app_failed
    form = final.request.form()
    assert (form["callSessionState"], form["status"]) == ("Completed", "Aborted")
    assert record.ending.cause.value == "NORMAL_CLEARING"
    # The caller heard AT's error message (4 s) before AT hung up: it is billed.
    assert int(form["durationInSeconds"]) >= 4
    assert h.events(record.session_id)[-1]["eventType"] == "SessionEnded"


def test_timeout_costs_the_configured_wait_in_virtual_time() -> None:
    h = EngineHarness(options=EngineOptions(webhook_timeout=7))
    h.script(USER, answer="answered")
    h.app(failing_first(AppUnreachable("timeout", timed_out=True)))  # type: ignore[arg-type]
    record = h.call(events=False)
    assert record.duration_seconds == 7 + 4  # the wait, then the error message


def test_failing_digits_callback_ends_the_call() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered", digits=["1"])

    def app(form: Mapping[str, str]) -> object:
        if "dtmfDigits" in form:
            return AppAnswer(503, "down")
        return xml('<GetDigits numDigits="1"><Say>Press</Say></GetDigits>')

    h.app(app)  # type: ignore[arg-type]
    record = h.call(events=False)
    notes = [e.note for e in h.callbacks(record.session_id)]
    assert notes[1] == "the app answered HTTP 503"
    assert record.end_reason == "app failure: the app answered HTTP 503"


def test_unreachable_app_still_gets_the_final_request_attempt() -> None:
    h = EngineHarness()
    h.script(USER, answer="busy")
    record = h.call(events=False)  # no app registered at all
    (final,) = h.callbacks(record.session_id)
    assert final.result.error is not None
    assert final.request.form()["hangupCause"] == "USER_BUSY"


def test_inbound_call_to_a_broken_app_is_answered_with_an_error() -> None:
    h = EngineHarness()
    h.app(failing_first(AppAnswer(500, "")))  # type: ignore[arg-type]
    record = h.dial_in()
    assert record.ending.status.value == "Aborted"
    assert record.duration_seconds >= 4
    assert [e["eventType"] for e in h.events(record.session_id)] == [
        "SessionStarted", "SessionRinging", "SessionAnswered", "SessionEnded",
    ]  # fmt: skip


def test_events_url_failures_do_not_affect_the_call() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered")
    h.app(lambda form: xml("<Say>Hi</Say>") if form["isActive"] == "1" else "")
    h.app(lambda form: AppAnswer(500, "boom"), "http://app.test/events")
    record = h.call()
    assert record.ending.status.value == "Success"
    events = h.journal.for_session(record.session_id)
    assert any(e.note == "the app answered HTTP 500" for e in events if e.request.url != APP)


def raising(error: Exception) -> object:
    """An app whose delivery port raises instead of reporting a result, as an HTTP client
    does for a URL it cannot even build a request for (httpx's InvalidURL, idna errors)."""

    def app(form: Mapping[str, str]) -> object:
        raise error

    return app


def test_a_delivery_port_that_raises_fails_the_webhook_not_the_call() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered")
    h.app(answering(xml("<Redirect>http://bad.test/next</Redirect>")))
    h.app(raising(RuntimeError("Invalid port: ':1'")), "http://bad.test/next")  # type: ignore[arg-type]
    record = h.call()  # used to raise: the call's task died and the call never ended
    _first, redirected, final = h.callbacks(record.session_id)
    assert redirected.request.url == "http://bad.test/next"
    assert redirected.result.error == "RuntimeError: Invalid port: ':1'"
    assert redirected.note == "the app could not be reached (RuntimeError: Invalid port: ':1')"
    assert record.end_reason == f"app failure: {redirected.note}"
    # The final request goes to the redirect URL too; it fails the same way and is journaled.
    assert final.request.form()["isActive"] == "0"
    assert final.result.error is not None
    assert record.ending.status.value == "Aborted"
    assert h.events(record.session_id)[-1]["eventType"] == "SessionEnded"


def test_an_events_port_that_raises_does_not_affect_the_call() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered")
    h.app(answering(xml("<Say>Hi</Say>")))
    h.app(raising(UnicodeError("label empty or too long")), "http://app.test/events")  # type: ignore[arg-type]
    record = h.call()
    assert record.ending.status.value == "Success"
    events = h.journal.for_session(record.session_id)
    assert [e.result.error for e in events if e.request.url != APP] == [
        "UnicodeError: label empty or too long"
    ] * 4
