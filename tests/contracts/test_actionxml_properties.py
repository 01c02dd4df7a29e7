"""Property-based tests: round trips of valid documents, precise reports on mutated ones,
and no exception from the parser on any input.

Mutations work on an ElementTree copy of a document we rendered ourselves (trusted, so the
standard library parser is fine here), then serialise it back for :func:`parse`.
"""

from __future__ import annotations

import encodings.aliases
import xml.etree.ElementTree as StdET
from collections import Counter
from collections.abc import Iterator

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from at_voice_kit.contracts.actionxml import (
    DOCUMENT_PATH,
    ParseResult,
    Problem,
    Response,
    ResponseBuilder,
    Rule,
    parse,
    render,
    validate,
)
from tests.strategies_actionxml import documents, grammar_shaped_documents, responses

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REQUIRED = {("Play", "url"), ("Dial", "phoneNumbers"), ("Dequeue", "phoneNumber")}
ACTIONS = ["Say", "Play", "GetDigits", "Dial", "Record", "Enqueue", "Dequeue", "Redirect"]

# Values wrong for each attribute, written independently of the implementation's types.
BAD_VALUES = {
    "numDigits": ["-1", "1.5", "four", " 4", "2147483648", ""],
    "timeout": ["-5", "30s", "", "0x10"],
    "maxLength": ["-1", "1e3", ""],
    "maxDuration": ["9999999999", "ten", ""],
    "finishOnKey": ["##", "a", "", "10"],
    "callbackUrl": ["ftp://x/y", "/relative", "http://", "https://a b", ""],
    "url": ["file:///etc/passwd", "media.mp3", ""],
    "holdMusic": ["www.example.com/x.mp3", ""],
    "ringBackTone": ["https:// x", ""],
    "record": ["yes", "True", "1", ""],
    "sequential": ["no", "FALSE", ""],
    "trimSilence": ["0", ""],
    "playBeep": ["on", ""],
    "voice": ["robot", "Man", ""],
    "phoneNumbers": ["0711082369", "+254711082369,,", "bob@example.com", ""],
    "callerId": ["254711082369", "+1", ""],
    "phoneNumber": ["0711082369", "+12", ""],
    "name": [""],
}


def _located(root: StdET.Element) -> Iterator[tuple[StdET.Element, str]]:
    """Every element with its path, numbered among same-named siblings as the parser does."""
    stack = [(root, root.tag)]
    while stack:
        element, path = stack.pop()
        yield element, path
        seen: Counter[str] = Counter()
        for child in element:
            seen[child.tag] += 1
            stack.append((child, f"{path}/{child.tag}[{seen[child.tag]}]"))


def _keys(result: ParseResult) -> set[tuple[Rule, str, str | None]]:
    return {(problem.rule, problem.path, problem.attribute) for problem in result.problems}


def _well_formed(problem: Problem) -> None:
    assert problem.rule in set(Rule)
    assert problem.path == DOCUMENT_PATH or problem.path.split("/")[0] != ""
    assert "\n" not in str(problem) and "\r" not in str(problem)
    assert problem.message and (problem.line is None or problem.line >= 1)


def _judged(document: str | bytes) -> ParseResult:
    result = parse(document)
    for problem in (*result.problems, *result.notes):
        _well_formed(problem)
    assert result.ok == (result.response is not None)
    if result.response is not None:
        # Whatever is accepted renders canonically and reads back the same.
        assert parse(render(result.response)).response == result.response
    return result


@PROPERTY
@given(responses())
def test_every_valid_response_renders_and_parses_back_unchanged(response: Response) -> None:
    assert validate(response) == ()
    document = render(response)
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?><Response')
    for encoded in (document, document.encode("utf-8")):
        result = parse(encoded)
        assert result.problems == () and result.notes == ()
        assert result.response == response


@PROPERTY
@given(responses())
def test_builder_renders_what_render_renders(response: Response) -> None:
    builder = ResponseBuilder().then(*response.actions)
    assert builder.build() == response
    assert builder.to_xml() == render(response)


@PROPERTY
@given(documents(), st.data())
def test_dropping_an_attribute_is_valid_or_reported_precisely(
    document: str, data: st.DataObject
) -> None:
    root = StdET.fromstring(document)
    candidates = [(e, p, name) for e, p in _located(root) for name in e.attrib]
    assume(candidates)
    element, path, name = data.draw(st.sampled_from(candidates))
    del element.attrib[name]
    result = _judged(StdET.tostring(root, encoding="unicode"))
    if (element.tag, name) in REQUIRED:
        assert (Rule.MISSING_REQUIRED_ATTRIBUTE, path, name) in _keys(result)
    elif element.tag == "Record" and not element.attrib and len(element) == 0:
        # It became a terminal <Record/>: only what follows it can be wrong now.
        assert {rule for rule, _, _ in _keys(result)} <= {Rule.AFTER_TERMINAL}
    else:
        assert result.ok


@PROPERTY
@given(documents(), st.data())
def test_renaming_an_attribute_is_reported_as_unknown(document: str, data: st.DataObject) -> None:
    root = StdET.fromstring(document)
    candidates = [(e, p, name) for e, p in _located(root) for name in e.attrib]
    assume(candidates)
    element, path, name = data.draw(st.sampled_from(candidates))
    renamed = data.draw(st.sampled_from([name.lower(), name.upper(), name + "s", "x" + name]))
    assume(renamed != name)
    element.attrib[renamed] = element.attrib.pop(name)
    result = _judged(StdET.tostring(root, encoding="unicode"))
    assert (Rule.UNKNOWN_ATTRIBUTE, path, renamed) in _keys(result)
    if (element.tag, name) in REQUIRED:
        assert (Rule.MISSING_REQUIRED_ATTRIBUTE, path, name) in _keys(result)
    unknown = next(p for p in result.problems if p.attribute == renamed)
    if renamed.lower() == name.lower() or renamed == name + "s":
        assert f"did you mean `{name}`?" in unknown.message


@PROPERTY
@given(documents(), st.data())
def test_a_bad_value_is_reported_on_its_attribute(document: str, data: st.DataObject) -> None:
    root = StdET.fromstring(document)
    candidates = [(e, p, name) for e, p in _located(root) for name in e.attrib]
    assume(candidates)
    element, path, name = data.draw(st.sampled_from(candidates))
    element.attrib[name] = data.draw(st.sampled_from(BAD_VALUES[name]))
    result = _judged(StdET.tostring(root, encoding="unicode"))
    rules = {rule for rule, where, attribute in _keys(result) if (where, attribute) == (path, name)}
    assert rules & {Rule.BAD_VALUE, Rule.INVALID_PHONE_NUMBER}


@PROPERTY
@given(documents(), st.data())
def test_misplaced_children_are_wrong_nesting(document: str, data: st.DataObject) -> None:
    root = StdET.fromstring(document)
    parents = [(e, p) for e, p in _located(root) if e is not root]
    assume(parents)
    parent, path = data.draw(st.sampled_from(parents))
    takes_prompt = parent.tag in ("GetDigits", "Record")
    choices = [a for a in ACTIONS if a not in ("Say", "Play")] if takes_prompt else ACTIONS
    child_tag = data.draw(st.sampled_from([*choices, "Response"]))
    StdET.SubElement(parent, child_tag)
    index = sum(1 for child in parent if child.tag == child_tag)
    result = _judged(StdET.tostring(root, encoding="unicode"))
    assert (Rule.WRONG_NESTING, f"{path}/{child_tag}[{index}]", None) in _keys(result)


@PROPERTY
@given(documents(), st.data())
def test_wrong_case_element_names_are_unknown_with_a_suggestion(
    document: str, data: st.DataObject
) -> None:
    root = StdET.fromstring(document)
    located = [(e, p) for e, p in _located(root) if e is not root]
    assume(located)
    element, _ = data.draw(st.sampled_from(located))
    original = element.tag
    element.tag = data.draw(st.sampled_from([original.lower(), original.upper()]))
    assume(element.tag != original)
    result = _judged(StdET.tostring(root, encoding="unicode"))
    problems = [p for p in result.problems if p.rule is Rule.UNKNOWN_ELEMENT]
    assert problems and all(p.element == element.tag for p in problems)
    assert f"did you mean `{original}`?" in problems[0].message


@PROPERTY
@given(documents(), st.data())
def test_every_truncation_is_not_xml(document: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(document) - 1))
    result = _judged(document[:cut])
    assert [problem.rule for problem in result.problems] == [Rule.NOT_XML]


@PROPERTY
@given(documents(), st.data(), st.binary(min_size=1, max_size=8))
def test_junk_bytes_anywhere_never_raise(document: str, data: st.DataObject, junk: bytes) -> None:
    encoded = document.encode("utf-8")
    at = data.draw(st.integers(0, len(encoded)))
    _judged(encoded[:at] + junk + encoded[at:])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_arbitrary_input_never_raises(document: str | bytes) -> None:
    result = _judged(document)
    assert not result.ok or isinstance(result.response, Response)


@settings(max_examples=400, deadline=None)
@given(grammar_shaped_documents())
def test_random_grammar_shaped_documents_never_raise(document: str) -> None:
    _judged(document)


_CODEC_NAMES = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values()))


@settings(max_examples=300, deadline=None)
@given(documents(max_actions=2), st.one_of(st.sampled_from(_CODEC_NAMES), st.text(max_size=12)))
def test_any_declared_encoding_never_raises(document: str, encoding: str) -> None:
    body = document.split("?>", 1)[1]
    declared = f'<?xml version="1.0" encoding="{encoding}"?>{body}'
    _judged(declared)
    _judged(declared.encode("utf-8", "surrogatepass"))
