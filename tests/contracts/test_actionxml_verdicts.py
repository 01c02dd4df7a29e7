"""The verdict model: each rule's severity (error: breaks the app on AT; warning: works on AT
but fragile) and what AT would most plausibly carry out of a document that breaks rules."""

from __future__ import annotations

from hypothesis import given, settings

from at_voice_kit.contracts.actionxml import (
    RULE_VERDICTS,
    GetDigits,
    Reject,
    Response,
    Rule,
    Say,
    Severity,
    Voice,
    parse,
)
from tests.strategies_actionxml import documents

# The shape of AT's own example app's answer after its menu (africastalking-python,
# example/webApp.py): no XML declaration, speech in the man's voice, then Reject.
AT_EXAMPLE_GOODBYE = (
    '<Response> <Say voice="man" playBeep="false">Your balance is 1234 Shillings</Say>'
    " <Reject/> </Response>"
)


def test_every_rule_has_a_verdict_with_evidence() -> None:
    assert set(RULE_VERDICTS) == set(Rule)
    assert all(verdict.evidence for verdict in RULE_VERDICTS.values())


def test_ats_own_example_answer_works_on_at_with_a_warning() -> None:
    result = parse(AT_EXAMPLE_GOODBYE)
    assert result.works_on_at
    assert [(p.rule, p.severity) for p in result.problems] == [
        (Rule.REJECT_NOT_ALONE, Severity.WARNING)
    ]
    assert result.executable == Response(
        (Say("Your balance is 1234 Shillings", voice=Voice.MAN, play_beep=False), Reject())
    )


def test_an_element_at_does_not_have_is_an_error_and_is_skipped() -> None:
    result = parse(
        '<Response><Say>Hi</Say><Hangup/><GetDigits numDigits="1">'
        "<Say>Press 1</Say></GetDigits></Response>"
    )
    assert not result.works_on_at
    assert [p.rule for p in result.errors] == [Rule.UNKNOWN_ELEMENT]
    assert result.executable == Response(
        (Say("Hi"), GetDigits(prompt=Say("Press 1"), num_digits=1))
    )


def test_odd_values_of_lenient_attributes_are_warnings_and_fall_back_to_the_default() -> None:
    result = parse('<Response><Say voice="Man" playBeep="yes">Hello</Say></Response>')
    assert result.works_on_at
    assert {(p.attribute, p.severity) for p in result.problems} == {
        ("voice", Severity.WARNING),
        ("playBeep", Severity.WARNING),
    }
    assert result.executable == Response((Say("Hello"),))


def test_unknown_attributes_are_warnings_and_ignored() -> None:
    result = parse('<Response><GetDigits numdigits="1"><Say>Press</Say></GetDigits></Response>')
    assert result.works_on_at
    assert [p.rule for p in result.warnings] == [Rule.UNKNOWN_ATTRIBUTE]
    assert result.executable == Response((GetDigits(prompt=Say("Press")),))


def test_an_action_with_an_error_of_its_own_is_skipped_and_the_rest_runs() -> None:
    result = parse(
        '<Response><Play/><Dial phoneNumbers="+254711"/><Say>Still here</Say></Response>'
    )
    assert {p.rule for p in result.errors} == {
        Rule.MISSING_REQUIRED_ATTRIBUTE,
        Rule.INVALID_PHONE_NUMBER,
    }
    assert result.executable == Response((Say("Still here"),))


def test_a_wrongly_nested_child_is_an_error_and_the_first_usable_prompt_is_kept() -> None:
    result = parse(
        "<Response><GetDigits><Dial phoneNumbers='+254711082000'/><Say>Press</Say>"
        "<Play url='http://a.example/b.wav'/></GetDigits></Response>"
    )
    assert {p.rule for p in result.errors} == {Rule.WRONG_NESTING}
    assert result.executable == Response((GetDigits(prompt=Say("Press")),))


def test_actions_after_a_redirect_are_dead_code_a_warning() -> None:
    result = parse("<Response><Redirect>http://a.example/next</Redirect><Say>x</Say></Response>")
    assert result.works_on_at
    assert [p.rule for p in result.warnings] == [Rule.AFTER_TERMINAL]


def test_documents_that_are_no_response_have_nothing_to_carry_out() -> None:
    for document in ("not xml", "<Reponse><Say>x</Say></Reponse>", ""):
        result = parse(document)
        assert not result.works_on_at
        assert result.executable is None


@settings(max_examples=150, deadline=None)
@given(documents())
def test_a_valid_document_is_carried_out_exactly_as_written(document: str) -> None:
    result = parse(document)
    assert result.ok and result.works_on_at
    assert result.executable == result.response
