"""What is wrong with an ActionXML document: one :class:`Problem` per broken rule.

The parser, the validator of typed values, the renderer, ``atsim lint`` and ``atsim verify``
all speak in these records, so a rule has one stable machine identifier (:class:`Rule`)
wherever it is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

DOCUMENT_PATH = "(document)"
"""The ``path`` of a problem that concerns the whole document (not XML, too large, ...)."""


class Rule(StrEnum):
    """Stable identifiers of the grammar's rules; a ``StrEnum``, so they compare equal to text."""

    # The document as a whole.
    NOT_XML = "not-xml"
    TOO_LARGE = "too-large"
    DTD_FORBIDDEN = "dtd-forbidden"
    NO_RESPONSE_ROOT = "no-response-root"
    # Elements and their place.
    UNKNOWN_ELEMENT = "unknown-element"
    WRONG_NESTING = "wrong-nesting"
    UNEXPECTED_TEXT = "unexpected-text"
    # Attributes and text.
    UNKNOWN_ATTRIBUTE = "unknown-attribute"
    DUPLICATE_ATTRIBUTE = "duplicate-attribute"
    MISSING_REQUIRED_ATTRIBUTE = "missing-required-attribute"
    MISSING_TEXT = "missing-text"
    BAD_VALUE = "bad-value"
    INVALID_PHONE_NUMBER = "invalid-phone-number"
    # The order of actions.
    REJECT_NOT_ALONE = "reject-not-alone"
    AFTER_TERMINAL = "after-terminal"
    # Typed values only: states a Python value can hold but a document cannot express.
    NOT_AN_ACTION = "not-an-action"
    TERMINAL_RECORD_NOT_EMPTY = "terminal-record-not-empty"
    EMPTY_PARTIAL_RECORD = "empty-partial-record"
    # Notes: accepted, but worth saying.
    ALIAS_SPELLING = "alias-spelling"
    SSML_IN_SAY = "ssml-in-say"


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule, located precisely.

    ``path`` is XPath-like with 1-based positions among same-named siblings
    (``Response/GetDigits[2]/Say[1]``), or ``(document)``; ``element`` and ``attribute``
    name what is wrong (``None`` when not applicable); ``rule`` is the stable identifier;
    ``message`` is one human sentence; ``line`` is the line of the element's start tag
    when the problem comes from a parsed document.
    """

    path: str
    element: str | None
    attribute: str | None
    rule: Rule
    message: str
    line: int | None = None

    @property
    def location(self) -> str:
        """``line: path`` when the line is known, else ``path``."""
        return self.path if self.line is None else f"{self.line}: {self.path}"

    @property
    def severity(self) -> Severity:
        """Whether it breaks the app on AT (``error``) or only looks fragile (``warning``)."""
        return severity_of(self)

    def __str__(self) -> str:
        return f"{self.location}: {self.message} [{self.rule}]"


def describe_problems(problems: Iterable[Problem]) -> str:
    """Every problem on its own indented line, for exception and log messages."""
    return "\n".join(f"  {problem}" for problem in problems)


class InvalidActionXML(ValueError):
    """Raised when asked to render or build a document that breaks the grammar.

    ``problems`` lists every broken rule; the message lists them one a line.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid ActionXML ({count} {noun}):\n{describe_problems(self.problems)}")


class Severity(StrEnum):
    """What a broken rule means for an app on AT (the kit's verdict is meant to be AT's).

    * ``error``: the app will not work on AT as written (not XML, no ``<Response>``, an
      element AT does not have, a required attribute missing or unusable);
    * ``warning``: it works on AT as far as anyone can tell, but relies on something
      undocumented or fragile (``Reject`` after other actions, an attribute AT ignores, an
      odd value AT most plausibly replaces by its default);
    * ``note``: accepted and fine, worth telling the author (AT's alternative spellings,
      SSML markup in ``Say``).

    Errors fail ``atsim lint`` and ``atsim verify``; warnings fail them only with ``--strict``.
    """

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A rule's severity and the evidence it rests on (the docs' fidelity table prints it)."""

    severity: Severity
    evidence: str


RULE_VERDICTS: dict[Rule, Verdict] = {
    Rule.NOT_XML: Verdict(Severity.ERROR, "AT parses the answer as XML [doc]"),
    Rule.TOO_LARGE: Verdict(Severity.ERROR, "choice: no real answer comes near 64 KiB"),
    Rule.DTD_FORBIDDEN: Verdict(Severity.ERROR, "choice: a DTD is a parser attack surface"),
    Rule.NO_RESPONSE_ROOT: Verdict(Severity.ERROR, "every documented answer is a <Response> [doc]"),
    Rule.UNKNOWN_ELEMENT: Verdict(
        Severity.ERROR,
        "AT documents ten actions [doc]; one it does not have (<Hangup/>, <CollectDigits>) is "
        "not carried out, so the call does not do what the app meant",
    ),
    Rule.WRONG_NESTING: Verdict(
        Severity.ERROR, "only GetDigits and Record take a child, one Say or Play prompt [doc]"
    ),
    Rule.UNEXPECTED_TEXT: Verdict(
        Severity.WARNING, "choice: text where AT expects none is most plausibly ignored"
    ),
    Rule.UNKNOWN_ATTRIBUTE: Verdict(
        Severity.WARNING,
        "choice: an attribute AT does not know is most plausibly ignored (its default applies), "
        "as XML readers ignore unknown attributes; names are case-sensitive",
    ),
    Rule.DUPLICATE_ATTRIBUTE: Verdict(
        Severity.WARNING, "AT's docs spell some attributes two ways [doc]; which wins is unknown"
    ),
    Rule.MISSING_REQUIRED_ATTRIBUTE: Verdict(
        Severity.ERROR, "Play url, Dial phoneNumbers, Dequeue phoneNumber are required [doc]"
    ),
    Rule.MISSING_TEXT: Verdict(Severity.ERROR, "Say needs its text, Redirect its URL [doc]"),
    Rule.BAD_VALUE: Verdict(
        Severity.ERROR,
        "a URL no request can reach, a number AT cannot read; odd values of voice, finishOnKey "
        "and the booleans are warnings (AT most plausibly uses the default)",
    ),
    Rule.INVALID_PHONE_NUMBER: Verdict(
        Severity.ERROR, "AT cannot dial a number invalid for its country [doc: InvalidPhoneNumber]"
    ),
    Rule.REJECT_NOT_ALONE: Verdict(
        Severity.WARNING,
        "AT's own example app (africastalking-python example/webApp.py) answers "
        "<Say>...</Say><Reject/>; nothing AT publishes says Reject must stand alone [sdk]",
    ),
    Rule.AFTER_TERMINAL: Verdict(
        Severity.WARNING,
        "nothing after Redirect or a terminal Record runs [doc]: dead code, not a failure",
    ),
    Rule.NOT_AN_ACTION: Verdict(Severity.ERROR, "typed values only: cannot be rendered"),
    Rule.TERMINAL_RECORD_NOT_EMPTY: Verdict(Severity.ERROR, "typed values only"),
    Rule.EMPTY_PARTIAL_RECORD: Verdict(Severity.ERROR, "typed values only"),
    Rule.ALIAS_SPELLING: Verdict(Severity.NOTE, "AT's docs use both spellings [doc]"),
    Rule.SSML_IN_SAY: Verdict(
        Severity.NOTE,
        'AT\'s docs say only "Say: text", but SDKs send SSML in it: africastalking-laravel '
        'documents "The say() action supports SSML" and tests <Say voice="en-US-Wavenet-C">'
        '<speak>..<break time="200ms"/>..</speak></Say> (since 2022); AT\'s Node SDK puts '
        "Say text in unescaped [sdk]",
    ),
}
"""Every rule's verdict, with its evidence. A test keeps it complete."""

LENIENT_ATTRIBUTES = frozenset(
    {"voice", "playBeep", "trimSilence", "record", "sequential", "finishOnKey"}
)
"""Attributes whose odd value is a warning: AT most plausibly falls back to the default
(``voice="Man"`` speaks in the default voice) rather than failing the call."""


def severity_of(problem: Problem) -> Severity:
    """The verdict on ``problem``: its rule's, except the lenient attributes' bad values."""
    if problem.rule is Rule.BAD_VALUE and problem.attribute in LENIENT_ATTRIBUTES:
        return Severity.WARNING
    return RULE_VERDICTS[problem.rule].severity
