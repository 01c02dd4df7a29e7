"""The checks, one exchange at a time: what is a problem, and what is not (no false alarms)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from at_voice_kit.contracts.actionxml import Rule
from at_voice_kit.simulator.verify.checks import (
    CHECKS,
    Check,
    Severity,
    judge,
    passes_first_role_on,
)
from at_voice_kit.simulator.verify.exchanges import Answer, Exchange, Origin, Role, SentRequest
from tests.strategies_actionxml import documents, grammar_shaped_documents

XML = '<?xml version="1.0" encoding="UTF-8"?>'
REQUEST = SentRequest("http://app.test/voice/instruct", (("sessionId", "ATVId_x"),))


def exchange(
    role: Role,
    status: int | None = 200,
    body: str = "",
    *,
    content_type: str | None = "text/plain",
    elapsed: float = 0.01,
    error: str | None = None,
    timed_out: bool = False,
    origin: Origin = Origin.SIMULATED,
) -> Exchange:
    answer = Answer(status, body, content_type, elapsed, error, timed_out)
    return Exchange(1, role, origin, REQUEST, answer)


def checks(found: tuple[object, ...]) -> list[Check]:
    return [f.check for f in found]  # type: ignore[attr-defined]


def test_the_final_notification_may_be_answered_with_any_2xx_body() -> None:
    for body in ("", "OK", "<Response/>", "not xml at all", '{"ok": true}'):
        for status in (200, 202, 204):
            assert judge(exchange(Role.FINAL, status, body), timeout=10) == ()


def test_the_events_url_may_answer_any_2xx_body() -> None:
    for body in ("", "OK", "<html>thanks</html>", '{"stored": 1}'):
        assert judge(exchange(Role.EVENT, 200, body, content_type="text/html"), timeout=10) == ()


def test_non_2xx_answers_fail_the_check_of_their_role() -> None:
    assert checks(judge(exchange(Role.FINAL, 500), timeout=10)) == [Check.FINAL_NOTIFICATION_2XX]
    assert checks(judge(exchange(Role.EVENT, 404), timeout=10)) == [Check.EVENTS_2XX]
    assert checks(judge(exchange(Role.LIVE, 503), timeout=10)) == [Check.STATUS_2XX]
    [redirect] = judge(exchange(Role.FIRST, 302), timeout=10)
    assert redirect.check is Check.STATUS_2XX
    assert "AT does not follow redirects" in redirect.headline


def test_an_empty_or_silent_first_answer_gives_the_caller_nothing() -> None:
    for body in ("", "  \n", f"{XML}<Response/>", "<Response>\n</Response>"):
        [finding] = judge(exchange(Role.FIRST, 200, body), timeout=10)
        assert finding.check is Check.FIRST_ANSWER_ACTIONABLE
        assert finding.severity is Severity.ERROR
    # Later in the call an empty answer just means "no more actions": AT hangs up.
    assert judge(exchange(Role.LIVE, 200, ""), timeout=10) == ()
    assert judge(exchange(Role.LIVE, 200, "<Response/>"), timeout=10) == ()


def test_a_first_answer_that_only_redirects_hands_the_check_to_its_target() -> None:
    redirect = f"{XML}<Response><Redirect>http://app.test/next</Redirect></Response>"
    assert judge(exchange(Role.FIRST, 200, redirect), timeout=10) == ()
    assert passes_first_role_on(redirect)
    assert not passes_first_role_on(f"{XML}<Response><Say>Hi</Say></Response>")
    assert not passes_first_role_on("")


def test_grammar_problems_are_reported_precisely() -> None:
    body = (
        '<Response><Say voice="male">Hi</Say>'
        '<GetDigits><Dial phoneNumbers="+254711082001"/></GetDigits></Response>'
    )
    found = judge(exchange(Role.LIVE, 200, body), timeout=10)
    problems = [(f.check, f.problem.rule, f.problem.path, f.problem.attribute) for f in found
                if f.problem is not None]  # fmt: skip
    assert problems == [
        (Check.ACTIONXML_VALID, Rule.BAD_VALUE, "Response/Say[1]", "voice"),
        (Check.ACTIONXML_VALID, Rule.WRONG_NESTING, "Response/GetDigits[1]/Dial[1]", None),
    ]
    assert found[0].key != found[1].key


def test_actions_after_a_terminal_action_have_their_own_check_and_are_a_warning() -> None:
    body = "<Response><Redirect>http://app.test/x</Redirect><Say>never heard</Say></Response>"
    [finding] = judge(exchange(Role.LIVE, 200, body), timeout=10)
    assert finding.check is Check.NOTHING_AFTER_TERMINAL
    assert finding.problem is not None and finding.problem.rule is Rule.AFTER_TERMINAL
    assert finding.severity is Severity.WARNING  # dead code, not a failure on AT


# AT's own example app (africastalking-python, example/webApp.py) answers after its menu with
# no XML declaration, spaces between elements, speech, then Reject, as text/html (Flask's
# default). It works on AT: warnings at most.
AT_EXAMPLE_GOODBYE = (
    '<Response> <Say voice="man" playBeep="false">Your balance is 1234 Shillings</Say>'
    " <Reject/> </Response>"
)


def test_ats_own_example_answer_gets_warnings_and_no_error() -> None:
    found = judge(
        exchange(Role.LIVE, 200, AT_EXAMPLE_GOODBYE, content_type="text/html; charset=utf-8"),
        timeout=10,
    )
    assert [(f.check, f.severity) for f in found] == [
        (Check.NOTHING_AFTER_TERMINAL, Severity.WARNING),
        (Check.CONTENT_TYPE, Severity.WARNING),
    ]


def test_each_grammar_problem_is_as_severe_as_the_grammars_verdict() -> None:
    body = '<Response><Say voice="male">Hi</Say><Hangup/><Say>Bye</Say></Response>'
    found = judge(exchange(Role.LIVE, 200, body), timeout=10)
    assert [(f.problem.rule, f.severity) for f in found if f.problem is not None] == [
        (Rule.BAD_VALUE, Severity.WARNING),  # voice="male": AT most plausibly uses its default
        (Rule.UNKNOWN_ELEMENT, Severity.ERROR),  # AT has no <Hangup/>: the app does not work
    ]


def test_a_first_answer_of_an_unknown_element_is_one_error_not_two() -> None:
    [finding] = judge(exchange(Role.FIRST, 200, "<Response><Hangup/></Response>"), timeout=10)
    assert finding.check is Check.ACTIONXML_VALID and finding.severity is Severity.ERROR


def test_a_redirect_with_dead_code_after_it_still_hands_the_first_role_on() -> None:
    body = "<Response><Redirect>http://app.test/next</Redirect><Say>dead</Say></Response>"
    assert passes_first_role_on(body)


def test_at_alternative_spellings_are_accepted() -> None:
    body = ('<Response><GetDigits callBackUrl="http://app.test/x" numDigits="1">'
            "<Say>Press 1</Say></GetDigits></Response>")  # fmt: skip
    assert judge(exchange(Role.FIRST, 200, body), timeout=10) == ()


def test_transport_failures() -> None:
    [late] = judge(exchange(Role.FIRST, None, error="no answer", timed_out=True), timeout=10)
    assert late.check is Check.ANSWERED_IN_TIME and "10 s" in late.headline
    [gone] = judge(exchange(Role.EVENT, None, error="ConnectError: refused"), timeout=10)
    assert gone.check is Check.REACHABLE
    [slow] = judge(exchange(Role.FINAL, 200, elapsed=6.0), timeout=10)
    assert slow.check is Check.ANSWERED_QUICKLY and slow.severity is Severity.WARNING
    assert judge(exchange(Role.FINAL, 200, elapsed=4.9), timeout=10) == ()


def test_a_probe_may_be_refused_and_what_it_finds_is_a_warning_apart() -> None:
    probe = "direction 'outbound' is not how AT writes it (Inbound or Outbound)"
    assert judge(replace(exchange(Role.LIVE, 400), probe=probe), timeout=10) == ()
    [crashed] = judge(replace(exchange(Role.LIVE, 500), probe=probe), timeout=10)
    assert crashed.severity is Severity.WARNING and crashed.check is Check.STATUS_2XX
    assert crashed.key == "probe|live|500" and crashed.headline.startswith("Robustness probe: ")
    [late] = judge(replace(exchange(Role.FIRST, None, timed_out=True), probe=probe), timeout=10)
    assert late.severity is Severity.WARNING
    # A request AT does send may not be refused.
    [refused] = judge(exchange(Role.LIVE, 400, origin=Origin.REPLAYED), timeout=10)
    assert refused.severity is Severity.ERROR


def test_actionxml_labelled_as_json_or_html_is_a_warning() -> None:
    body = "<Response><Say>Hi</Say></Response>"
    for content_type in ("application/json", "text/html; charset=utf-8"):
        [finding] = judge(exchange(Role.FIRST, 200, body, content_type=content_type), timeout=10)
        assert finding.check is Check.CONTENT_TYPE and finding.severity is Severity.WARNING
    for content_type in ("text/plain; charset=UTF-8", "application/xml", "text/xml", None):
        assert judge(exchange(Role.FIRST, 200, body, content_type=content_type), timeout=10) == ()


def test_every_check_applies_to_some_role() -> None:
    assert {spec.check for spec in CHECKS} == set(Check)
    assert all(spec.roles for spec in CHECKS)


@settings(max_examples=60, deadline=None)
@given(documents())
def test_no_valid_document_is_ever_flagged(document: str) -> None:
    assert judge(exchange(Role.LIVE, 200, document), timeout=10) == ()


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(list(Role)),
    st.one_of(st.none(), st.integers(100, 599)),
    st.one_of(grammar_shaped_documents(), st.text(max_size=200)),
    st.sampled_from(list(Origin)),
)
def test_judging_never_fails_whatever_the_app_answers(
    role: Role, status: int | None, body: str, origin: Origin
) -> None:
    found = judge(exchange(role, status, body, origin=origin), timeout=10)
    assert all(f.check in {s.check for s in CHECKS if role in s.roles} for f in found)
