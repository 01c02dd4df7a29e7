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
