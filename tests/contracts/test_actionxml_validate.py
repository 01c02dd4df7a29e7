"""Validating typed values: the same rules as parsed documents, plus typed-only states."""

from __future__ import annotations

from pathlib import Path

import pytest

from at_voice_kit.contracts.actionxml import (
    Conference,
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    InvalidActionXML,
    Play,
    Record,
    Redirect,
    Reject,
    Response,
    ResponseBuilder,
    Rule,
    Say,
    parse,
    render,
    validate,
)

CORPUS = Path(__file__).parent / "actionxml_corpus"


def _keys(problems: tuple[object, ...]) -> list[tuple[object, ...]]:
    return [(p.rule, p.path, p.attribute) for p in problems]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("response", "document"),
    [
        (Response((Say(" \n "),)), "<Response><Say> \n </Say></Response>"),
        (Response((GetDigits(timeout=-1),)), "<Response><GetDigits timeout='-1'/></Response>"),
        (Response((Play("ftp://a/b"),)), "<Response><Play url='ftp://a/b'/></Response>"),
        (
            Response((Dial(("0711082369", "+2547110823")),)),
            "<Response><Dial phoneNumbers='0711082369,+2547110823'/></Response>",
        ),
        (
            Response((Dequeue("+12"), Enqueue(name=""))),
            "<Response><Dequeue phoneNumber='+12'/><Enqueue name=''/></Response>",
        ),
        (Response((Say("hi"), Reject())), "<Response><Say>hi</Say><Reject/></Response>"),
        (
            Response((Redirect("https://a.example.com/n"), Say("x"), Record(terminal=True))),
            "<Response><Redirect>https://a.example.com/n</Redirect><Say>x</Say><Record/></Response>",
        ),
        (
            Response((Record(terminal=True), Conference())),
            "<Response><Record/><Conference/></Response>",
        ),
        (
            Response((GetDigits(prompt=Say("x", voice="robot"), finish_on_key="##"),)),  # type: ignore[arg-type]
            "<Response><GetDigits finishOnKey='##'><Say voice='robot'>x</Say></GetDigits>"
            "</Response>",
        ),
    ],
)
def test_typed_values_break_the_same_rules_as_the_documents_they_stand_for(
    response: Response, document: str
) -> None:
    typed = validate(response)
    assert typed
    assert _keys(typed) == _keys(parse(document).problems)
    assert [p.message for p in typed] == [p.message for p in parse(document).problems]


def test_valid_corpus_documents_are_valid_typed_values() -> None:
    for path in sorted((CORPUS / "valid").glob("*.xml")):
        response = parse(path.read_bytes()).response
        assert response is not None and validate(response) == (), path.name


def test_terminal_record_with_attributes_is_a_typed_only_problem() -> None:
    problems = validate(Response((Record(terminal=True, max_length=5, prompt=Say("x")),)))
    assert _keys(problems) == [(Rule.TERMINAL_RECORD_NOT_EMPTY, "Response/Record[1]", None)]
    assert "prompt, max_length" in problems[0].message


def test_partial_record_with_nothing_set_is_a_typed_only_problem_not_terminal() -> None:
    problems = validate(Response((Record(), Say("still runs"))))
    assert _keys(problems) == [(Rule.EMPTY_PARTIAL_RECORD, "Response/Record[1]", None)]
    assert "Record.until_hangup()" in problems[0].message


def test_values_of_the_wrong_type_are_bad_values_not_crashes() -> None:
    response = Response(
        (
            GetDigits(num_digits="4", timeout=True),  # type: ignore[arg-type]
            Dial("+254711082369", record="yes"),  # type: ignore[arg-type]
            Play(url=None),  # type: ignore[arg-type]
            Say(text=None),  # type: ignore[arg-type]
            Say(text=42),  # type: ignore[arg-type]
            Dial(("+254711082369,+254711082370",)),
            Dial((" +254711082369",)),
        )
    )
    assert _keys(validate(response)) == [
        (Rule.BAD_VALUE, "Response/GetDigits[1]", "numDigits"),
        (Rule.BAD_VALUE, "Response/GetDigits[1]", "timeout"),
        (Rule.BAD_VALUE, "Response/Dial[1]", "phoneNumbers"),
        (Rule.BAD_VALUE, "Response/Dial[1]", "record"),
        (Rule.MISSING_REQUIRED_ATTRIBUTE, "Response/Play[1]", "url"),
        (Rule.MISSING_TEXT, "Response/Say[1]", None),
        (Rule.BAD_VALUE, "Response/Say[2]", None),
        (Rule.BAD_VALUE, "Response/Dial[2]", "phoneNumbers"),
        (Rule.BAD_VALUE, "Response/Dial[3]", "phoneNumbers"),
    ]


def test_text_xml_cannot_carry_is_a_bad_value() -> None:
    problems = validate(Response((Say("bell \x07"), Play("https://a.example.com/\x00"))))
    assert [(p.rule, p.path) for p in problems] == [
        (Rule.BAD_VALUE, "Response/Say[1]"),
        (Rule.BAD_VALUE, "Response/Play[1]"),
    ]
    assert "U+0007" in problems[0].message


def test_objects_that_are_not_actions_are_reported() -> None:
    problems = validate(Response(("<Say>hi</Say>", Say("ok"))))  # type: ignore[arg-type]
    assert _keys(problems) == [(Rule.NOT_AN_ACTION, "Response/str[1]", None)]
    assert _keys(validate("<Response/>"))[0][0] is Rule.NOT_AN_ACTION  # type: ignore[arg-type]
    nested = validate(Response((GetDigits(prompt=Dial(("+254711082369",))),)))  # type: ignore[arg-type]
    assert _keys(nested) == [(Rule.WRONG_NESTING, "Response/GetDigits[1]/Dial[1]", None)]


def test_render_and_build_refuse_what_validate_reports() -> None:
    response = Response((Say(""), Reject()))
    expected = validate(response)
    with pytest.raises(InvalidActionXML) as rendered:
        render(response)
    with pytest.raises(InvalidActionXML) as built:
        ResponseBuilder().then(*response.actions).build()
    assert rendered.value.problems == built.value.problems == expected
    assert str(rendered.value).splitlines()[0] == "invalid ActionXML (2 problems):"


def test_builder_reads_like_a_call_flow() -> None:
    flow = (
        ResponseBuilder()
        .say("Welcome to Acme.")
        .get_digits(
            num_digits=1, timeout=10, callback_url="https://a.example.com/menu", prompt="Press 1"
        )
        .record(max_length=60, play_beep=True, callback_url="https://a.example.com/rec")
        .enqueue(name="support", hold_music="https://a.example.com/hold.mp3")
        .dequeue("+254711082000", name="support")
        .conference()
        .dial("+254711082369", "agent@ke.sip.africastalking.com", sequential=True)
        .play("https://a.example.com/bye.mp3")
        .redirect("https://a.example.com/next")
    )
    response = flow.build()
    assert response.actions[1] == GetDigits(
        prompt=Say("Press 1"), num_digits=1, timeout=10, callback_url="https://a.example.com/menu"
    )
    assert parse(flow.to_xml()).response == response
    # Immutable: a shared prefix extends two ways.
    base = ResponseBuilder().say("Hi")
    assert base.reject().actions != base.record_until_hangup().actions
    assert base.actions == (Say("Hi"),)
    assert ResponseBuilder().record_until_hangup().to_xml().endswith("<Record/></Response>")
