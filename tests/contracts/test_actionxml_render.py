"""Rendering typed values and the builder: exact output, escaping, and refusal of invalid values."""

from __future__ import annotations

import pytest

from at_voice_kit.contracts.actionxml import (
    GetDigits,
    InvalidActionXML,
    Play,
    Record,
    Reject,
    Response,
    ResponseBuilder,
    Rule,
    Say,
    Voice,
    parse,
    render,
)


def test_renders_declaration_canonical_attributes_and_booleans() -> None:
    xml = (
        ResponseBuilder()
        .say("Welcome", voice=Voice.MAN, play_beep=False)
        .get_digits(
            num_digits=1, timeout=10, callback_url="https://app.example/cb", prompt="Press 1"
        )
        .dial("+254711082369", record=True, ring_back_tone="https://app.example/tone.mp3")
        .to_xml()
    )
    assert xml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say voice="man" playBeep="false">Welcome</Say>'
        '<GetDigits numDigits="1" timeout="10" callbackUrl="https://app.example/cb">'
        "<Say>Press 1</Say></GetDigits>"
        '<Dial phoneNumbers="+254711082369" record="true" '
        'ringBackTone="https://app.example/tone.mp3"/>'
        "</Response>"
    )


def test_escapes_text_and_attributes_so_they_parse_back_unchanged() -> None:
    text = 'Tom & Jerry say "<hi>"\r\n\tbye ]]>'
    url = 'https://app.example/cb?a=1&b="2"<'
    response = Response((GetDigits(prompt=Say(text), callback_url=url.replace('"', "%22")),))
    xml = render(response)
    assert "&amp;" in xml and "&lt;hi&gt;" in xml and "&#13;" in xml
    assert parse(xml).response == response


def test_terminal_record_is_an_empty_element() -> None:
    assert render(Response((Record.until_hangup(),))).endswith("<Response><Record/></Response>")


def test_refuses_invalid_values_listing_every_problem() -> None:
    with pytest.raises(InvalidActionXML) as raised:
        render(Response((Say("  "), Play("ftp://x/a.mp3"))))
    rules = [problem.rule for problem in raised.value.problems]
    assert rules == [Rule.MISSING_TEXT, Rule.BAD_VALUE]
    assert "Response/Say[1]" in str(raised.value) and "Response/Play[1]" in str(raised.value)


def test_builder_build_validates() -> None:
    with pytest.raises(InvalidActionXML):
        ResponseBuilder().reject().say("hello").build()
    assert ResponseBuilder().reject().build() == Response((Reject(),))
