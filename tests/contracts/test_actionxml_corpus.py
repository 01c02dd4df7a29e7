"""The corpus of valid and invalid documents: the Python validator's verdicts, and the XSD's.

Every invalid document states the problems it must produce in comments
(``<!-- expect: RULE PATH[@ATTRIBUTE] -->``), and the validator must report exactly those.
``contracts/actionxml.xsd`` judges the errors of the verdict model (an app with one does not
work on AT), and must agree with the validator on them, checked with two unrelated XSD 1.0
implementations (xmlschema, and libxml2 through lxml): it accepts every valid document,
rejects every document with an error it can express, and accepts the documents whose only
problems are warnings or errors XSD 1.0 cannot express, as its header documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import xmlschema
from hypothesis import example, given, settings
from lxml import etree

from at_voice_kit.contracts.actionxml import (
    RULE_VERDICTS,
    XSD_PATH,
    Problem,
    Rule,
    Severity,
    parse,
    render,
)
from at_voice_kit.contracts.actionxml.grammar import XSI_NAMESPACE
from tests.strategies_actionxml import grammar_shaped_documents

CORPUS = Path(__file__).parent / "actionxml_corpus"
SCHEMA_PATH = XSD_PATH
VALID = sorted((CORPUS / "valid").glob("*.xml"))
INVALID = sorted((CORPUS / "invalid").glob("*.xml"))

XSD_INEXPRESSIBLE = frozenset({Rule.INVALID_PHONE_NUMBER, Rule.MISSING_TEXT})
"""The errors the schema's header lists as beyond XSD 1.0 (dtd-forbidden and too-large are
refusals before validation and have no corpus documents: see test_actionxml_parse): a phone
number's country plan, and the text of a Say, whose content is mixed (it may hold SSML)."""


def xsd_can_express(problem: Problem) -> bool:
    """Whether the schema can judge ``problem``: missing-text only of Redirect, not of Say."""
    if problem.rule is Rule.MISSING_TEXT:
        return problem.element != "Say"
    return problem.rule not in XSD_INEXPRESSIBLE


WARNING_RULES = frozenset(
    rule for rule, verdict in RULE_VERDICTS.items() if verdict.severity is Severity.WARNING
)
"""The rules whose problems are warnings: the schema accepts documents with only those."""

XSD_READS_ITSELF = frozenset({f"{{{XSI_NAMESPACE}}}type", f"{{{XSI_NAMESPACE}}}nil"})
"""Attributes every XSD validator interprets (the header says so): an unknown attribute to the
Python validator (a warning), but a document using them may be refused by the schema."""


def schema_must_refuse(problems: tuple[Problem, ...]) -> bool:
    """Whether the schema must refuse a document with these problems: an error it can express."""
    return any(p.severity is Severity.ERROR and xsd_can_express(p) for p in problems)


def schema_reads_itself(problems: tuple[Problem, ...]) -> bool:
    return any(p.attribute in XSD_READS_ITSELF for p in problems)


_EXPECT = re.compile(rb"<!-- expect: (\S+) (\S+) -->")


def _expected(document: bytes) -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = []
    for rule, location in _EXPECT.findall(document):
        path, _, attribute = location.decode().partition("@")
        found.append((rule.decode(), path, attribute or None))
    return sorted(found)


def _reported(problems: tuple[Problem, ...]) -> list[tuple[str, str, str | None]]:
    return sorted((str(p.rule), p.path, p.attribute) for p in problems)


@pytest.fixture(scope="module")
def xsd_validators() -> dict[str, Callable[[bytes], bool]]:
    xmlschema_schema = xmlschema.XMLSchema10(str(SCHEMA_PATH))
    libxml2_schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    hardened = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def by_xmlschema(document: bytes) -> bool:
        try:
            return bool(xmlschema_schema.is_valid(document.decode(_encoding(document))))
        except (xmlschema.XMLSchemaException, etree.LxmlError, SyntaxError):
            return False

    def by_libxml2(document: bytes) -> bool:
        try:
            return bool(libxml2_schema.validate(etree.fromstring(document, hardened)))
        except etree.XMLSyntaxError:
            return False

    return {"xmlschema": by_xmlschema, "libxml2": by_libxml2}


def _encoding(document: bytes) -> str:
    declared = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', document)
    return declared.group(1).decode() if declared else "utf-8"


def test_corpus_is_substantial_and_covers_every_document_rule() -> None:
    assert len(VALID) >= 25 and len(INVALID) >= 50
    covered = {rule for path in INVALID for rule, _, _ in _expected(path.read_bytes())}
    document_rules = set(Rule) - {
        Rule.TOO_LARGE,  # tested on generated sizes in test_actionxml_parse
        Rule.DTD_FORBIDDEN,  # ditto: refused before any grammar rule
        Rule.NOT_AN_ACTION,  # typed values only
        Rule.TERMINAL_RECORD_NOT_EMPTY,
        Rule.EMPTY_PARTIAL_RECORD,
        Rule.ALIAS_SPELLING,  # notes, exercised by the valid corpus
        Rule.SSML_IN_SAY,
    }
    assert covered == {str(rule) for rule in document_rules}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_documents_parse_with_no_problem_and_render_back(path: Path) -> None:
    result = parse(path.read_bytes())
    assert result.problems == ()
    assert result.ok and result.response is not None
    assert parse(render(result.response)).response == result.response


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_documents_report_exactly_the_expected_problems(path: Path) -> None:
    document = path.read_bytes()
    expected = _expected(document)
    assert expected, f"{path.name} states no expected problem"
    result = parse(document)
    assert not result.ok and result.response is None
    assert _reported(result.problems) == expected


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_schema_accepts_every_valid_document(
    path: Path, xsd_validators: dict[str, Callable[[bytes], bool]]
) -> None:
    for name, is_valid in xsd_validators.items():
        assert is_valid(path.read_bytes()), name


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_schema_refuses_exactly_the_documents_with_an_error_it_can_express(
    path: Path, xsd_validators: dict[str, Callable[[bytes], bool]]
) -> None:
    document = path.read_bytes()
    problems = parse(document).problems
    # The corpus's xsi:type names another element's type: the validators refuse it themselves.
    must_refuse = schema_must_refuse(problems) or schema_reads_itself(problems)
    for name, is_valid in xsd_validators.items():
        assert is_valid(document) is not must_refuse, (name, [str(p) for p in problems])


def test_xsi_type_is_interpreted_by_the_validators_as_the_header_says(
    xsd_validators: dict[str, Callable[[bytes], bool]],
) -> None:
    document = (CORPUS / "invalid" / "xsi-type-attribute.xml").read_bytes()
    problems = parse(document).problems
    assert [(p.rule, p.severity) for p in problems] == [(Rule.UNKNOWN_ATTRIBUTE, Severity.WARNING)]
    assert not any(is_valid(document) for is_valid in xsd_validators.values())


def test_every_warning_and_inexpressible_rule_has_a_document_the_schema_accepts(
    xsd_validators: dict[str, Callable[[bytes], bool]],
) -> None:
    accepted: set[tuple[Rule, Severity]] = set()
    for path in INVALID:
        document = path.read_bytes()
        problems = parse(document).problems
        if schema_must_refuse(problems) or schema_reads_itself(problems):
            continue
        assert all(is_valid(document) for is_valid in xsd_validators.values()), path.name
        accepted |= {(problem.rule, problem.severity) for problem in problems}
    warned = {rule for rule, severity in accepted if severity is Severity.WARNING}
    # Every warning rule, and a bad value of an attribute AT most plausibly defaults.
    assert warned == WARNING_RULES | {Rule.BAD_VALUE}
    assert {rule for rule, severity in accepted if severity is Severity.ERROR} == XSD_INEXPRESSIBLE


def test_schema_header_documents_what_it_accepts_and_cannot_express() -> None:
    header = SCHEMA_PATH.read_text(encoding="utf-8").split("<xs:schema", 1)[0]
    for rule in [*WARNING_RULES, *XSD_INEXPRESSIBLE, Rule.DTD_FORBIDDEN, Rule.TOO_LARGE]:
        assert str(rule) in header
    assert "xsi:type" in header


@settings(max_examples=300, deadline=None)
@given(grammar_shaped_documents())
@example(  # found by hypothesis: both spellings present, the alias with a bad value
    '<Response><Record callbackUrl="https://a.example.com/x?a=1&amp;b=2" '
    'callBackUrl="ftp://a/b" /></Response>'
)
@example(  # found by hypothesis: an unknown attribute (a warning) on the simple-content Redirect
    '<Response><Redirect foo="x">https://a.example.com/next</Redirect></Response>'
)
def test_schema_agrees_on_generated_near_miss_documents(
    xsd_validators: dict[str, Callable[[bytes], bool]], document: str
) -> None:
    problems = parse(document).problems
    must_refuse = schema_must_refuse(problems)
    for name, is_valid in xsd_validators.items():
        assert is_valid(document.encode("utf-8")) is not must_refuse, (
            name,
            [str(p) for p in problems],
        )
