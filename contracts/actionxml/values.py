"""The value types of ActionXML attributes and element text: lexical rules and conversions.

Each :class:`ValueType` knows three things: whether a string taken from a document is
well formed (``problems``), the typed Python value it stands for (``to_python``), and the
string a typed value is written as (``to_wire``). The parser and the validator of typed
values both go through these, which is what keeps them in agreement. The lexical rules are
mirrored, pattern for pattern, in ``contracts/actionxml.xsd``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from at_voice_kit.contracts.actionxml.model import TTS_VOICE_NAME, Voice
from at_voice_kit.contracts.actionxml.problems import Rule
from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.contracts.urls import ABSOLUTE_RULE, http_url_problem

MAX_WHOLE_NUMBER = 2_147_483_647
"""The largest integer attribute value accepted: AT's JVM server reads them as 32-bit ints."""

XML_WHITESPACE = " \t\r\n"
"""XML's (and XML Schema's ``\\s``) whitespace: narrower than :meth:`str.strip`'s."""

_WHOLE_NUMBER = re.compile(r"[0-9]+")
_INTERNATIONAL_SHAPE = re.compile(r"\+[0-9]{4,15}")
_SIP_ADDRESS = re.compile(r"[A-Za-z0-9._+\-]+@[a-z0-9\-]+\.sip\.africastalking\.com")
_FINISH_ON_KEY = re.compile(r"[0-9*#]")
# Characters XML 1.0 cannot carry at all, not even as character references.
_NOT_XML_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_QUOTE_LIMIT = 40


def quote(value: str) -> str:
    """``value`` for a one-line message: ``repr`` (so newlines show as ``\\n``), shortened."""
    if len(value) > _QUOTE_LIMIT:
        return repr(value[: _QUOTE_LIMIT - 3]) + "..."
    return repr(value)


def illegal_xml_character(value: str) -> str | None:
    """A description of the first character XML 1.0 cannot carry, or ``None``."""
    found = _NOT_XML_CHARACTER.search(value)
    if found is None:
        return None
    return f"U+{ord(found.group()):04X}"


def has_content(text: str) -> bool:
    """Whether ``text`` holds anything but XML whitespace."""
    return text.strip(XML_WHITESPACE) != ""


@dataclass(frozen=True, slots=True)
class ValueProblem:
    """Why one value is wrong: the rule and a phrase completing "attribute `x` ..."."""

    rule: Rule
    reason: str


def _type_problem(value: object, expected: str) -> ValueProblem:
    return ValueProblem(Rule.BAD_VALUE, f"must be {expected}, not {type(value).__name__}")


class ValueType:
    """A lexical type; subclasses override ``problems``, ``to_python`` and ``to_wire``.

    ``description`` completes "must be ..." in messages (and documents the table in
    docs/actionxml.md).
    """

    description = "a string"

    def from_document(self, raw: str) -> str:
        """The value as judged, from the raw document text (element text may be trimmed)."""
        return raw

    def problems(self, value: str) -> list[ValueProblem]:
        """Everything wrong with ``value`` (empty when well formed)."""
        return []

    def to_python(self, value: str) -> object:
        """The typed value of a well-formed ``value``."""
        return value

    def to_wire(self, value: object) -> str | ValueProblem:
        """The document spelling of a typed value, or why that value has the wrong type."""
        if isinstance(value, str):
            return value
        return _type_problem(value, "a str")

    def _must_be(self, value: str) -> list[ValueProblem]:
        return [ValueProblem(Rule.BAD_VALUE, f"must be {self.description}, not {quote(value)}")]


class WholeNumber(ValueType):
    """A non-negative decimal integer up to :data:`MAX_WHOLE_NUMBER` (``timeout="30"``)."""

    def __init__(self, unit: str) -> None:
        self.description = f"a whole number of {unit} (0 or more, digits only)"

    def problems(self, value: str) -> list[ValueProblem]:
        if not _WHOLE_NUMBER.fullmatch(value):
            return self._must_be(value)
        # Compare lengths first: int() of a 5000-digit string is slow and may raise.
        digits = value.lstrip("0")
        if len(digits) > len(str(MAX_WHOLE_NUMBER)) or int(digits or "0") > MAX_WHOLE_NUMBER:
            return [ValueProblem(Rule.BAD_VALUE, f"must be at most {MAX_WHOLE_NUMBER}")]
        return []

    def to_python(self, value: str) -> object:
        return int(value)

    def to_wire(self, value: object) -> str | ValueProblem:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return _type_problem(value, "an int")


class Boolean(ValueType):
    """``true`` or ``false``, lower case, as AT writes them."""

    description = "`true` or `false`"

    def problems(self, value: str) -> list[ValueProblem]:
        return [] if value in ("true", "false") else self._must_be(value)

    def to_python(self, value: str) -> object:
        return value == "true"

    def to_wire(self, value: object) -> str | ValueProblem:
        if isinstance(value, bool):
            return "true" if value else "false"
        return _type_problem(value, "a bool")


class HttpUrl(ValueType):
    """A URL AT can send a request to: the one rule of :mod:`at_voice_kit.contracts.urls`
    (absolute http(s), a host that can be looked up, a port from 1 to 65535, no space)."""

    description = "an absolute http:// or https:// URL"

    def problems(self, value: str) -> list[ValueProblem]:
        problem = http_url_problem(value)
        if problem is None:
            return []
        if problem == ABSOLUTE_RULE:
            return self._must_be(value)
        return [ValueProblem(Rule.BAD_VALUE, f"{problem}, not {quote(value)}")]


class RedirectUrl(HttpUrl):
    """The text of ``<Redirect>``: a URL, surrounding whitespace ignored (pretty-printing)."""

    def from_document(self, raw: str) -> str:
        return raw.strip(XML_WHITESPACE)

    def problems(self, value: str) -> list[ValueProblem]:
        if value == "":
            return [
                ValueProblem(Rule.MISSING_TEXT, "must not be empty: it is the URL to continue with")
            ]
        return HttpUrl.problems(self, value)


class VoiceName(ValueType):
    """``man``, ``woman``, or a named text-to-speech voice (``en-US-Standard-C``: see
    :data:`~at_voice_kit.contracts.actionxml.model.TTS_VOICE_NAME` for the evidence)."""

    description = "`man`, `woman` or a voice name such as `en-US-Standard-C`"

    def problems(self, value: str) -> list[ValueProblem]:
        if value in ("man", "woman") or TTS_VOICE_NAME.fullmatch(value):
            return []
        return self._must_be(value)

    def to_python(self, value: str) -> object:
        return Voice(value)


class FinishOnKey(ValueType):
    """One key of the phone pad: a digit, ``*`` or ``#``."""

    description = "one key of the phone pad: 0-9, `*` or `#`"

    def problems(self, value: str) -> list[ValueProblem]:
        return [] if _FINISH_ON_KEY.fullmatch(value) else self._must_be(value)


class InternationalNumber(ValueType):
    """A valid phone number in international format, ``+`` included (``+254711082369``)."""

    description = "a phone number in international format (+254711082369)"

    def problems(self, value: str) -> list[ValueProblem]:
        if not _INTERNATIONAL_SHAPE.fullmatch(value):
            return self._must_be(value)
        try:
            normalise_international(value)
        except InvalidPhoneNumber as invalid:
            return [ValueProblem(Rule.INVALID_PHONE_NUMBER, f"{quote(value)} {invalid.rule}")]
        return []


class DialTargets(ValueType):
    """``phoneNumbers`` of ``<Dial>``: comma-separated international numbers or AT SIP addresses.

    Whitespace around each entry is tolerated and dropped; the typed value is the tuple of
    entries.
    """

    description = (
        "international numbers or SIP addresses (user@ke.sip.africastalking.com), comma-separated"
    )

    def problems(self, value: str) -> list[ValueProblem]:
        found: list[ValueProblem] = []
        for position, raw_entry in enumerate(value.split(","), start=1):
            entry = raw_entry.strip(XML_WHITESPACE)
            if entry == "":
                found.append(
                    ValueProblem(
                        Rule.BAD_VALUE,
                        f"has an empty entry (number {position}): it must list {self.description}",
                    )
                )
            elif "@" in entry:
                if not _SIP_ADDRESS.fullmatch(entry):
                    reason = (
                        f"entry {quote(entry)} is not a SIP address like "
                        "user@ke.sip.africastalking.com"
                    )
                    found.append(ValueProblem(Rule.BAD_VALUE, reason))
            else:
                found.extend(_dial_number_problems(entry))
        return found

    def to_python(self, value: str) -> object:
        return tuple(entry.strip(XML_WHITESPACE) for entry in value.split(","))

    def to_wire(self, value: object) -> str | ValueProblem:
        if not isinstance(value, tuple | list) or not all(isinstance(e, str) for e in value):
            return _type_problem(value, "a tuple of str")
        for entry in value:
            if "," in entry or entry != entry.strip(XML_WHITESPACE):
                reason = (
                    "entries must be single numbers without commas or whitespace, "
                    f"not {quote(entry)}"
                )
                return ValueProblem(Rule.BAD_VALUE, reason)
        return ",".join(value)


def _dial_number_problems(entry: str) -> list[ValueProblem]:
    if not _INTERNATIONAL_SHAPE.fullmatch(entry):
        reason = (
            f"entry {quote(entry)} must be a number in international format "
            "('+' then 4 to 15 digits) or a SIP address"
        )
        return [ValueProblem(Rule.BAD_VALUE, reason)]
    try:
        normalise_international(entry)
    except InvalidPhoneNumber as invalid:
        return [ValueProblem(Rule.INVALID_PHONE_NUMBER, f"entry {quote(entry)} {invalid.rule}")]
    return []


class QueueName(ValueType):
    """The name of a call queue: any non-empty string."""

    description = "a non-empty queue name"

    def problems(self, value: str) -> list[ValueProblem]:
        return self._must_be(value) if value == "" else []


class SpokenText(ValueType):
    """The text of ``<Say>``: kept verbatim, but it must hold more than whitespace."""

    description = "text to speak"

    def problems(self, value: str) -> list[ValueProblem]:
        if has_content(value):
            return []
        return [
            ValueProblem(
                Rule.MISSING_TEXT, "must not be empty or only whitespace: it is what AT speaks"
            )
        ]
