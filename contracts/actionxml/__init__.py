"""ActionXML, AT's voice instruction language: one grammar for the service, simulator and runner.

* typed values: :mod:`at_voice_kit.contracts.actionxml.model` (``Say``, ``GetDigits``, ...,
  ``Response``);
* writing: :func:`render` and the fluent :class:`ResponseBuilder`, which only produce valid
  documents and raise :class:`InvalidActionXML` otherwise;
* reading untrusted documents: :func:`parse` gives a :class:`ParseResult` (typed actions or
  every :class:`Problem`), never an exception;
* judging typed values: :func:`validate`, by the same rules as :func:`parse`.
"""

from __future__ import annotations

from at_voice_kit.contracts.actionxml.builder import ResponseBuilder
from at_voice_kit.contracts.actionxml.grammar import XSD_PATH
from at_voice_kit.contracts.actionxml.model import (
    Action,
    Conference,
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    Play,
    Prompt,
    Record,
    Redirect,
    Reject,
    Response,
    Say,
    Voice,
)
from at_voice_kit.contracts.actionxml.parse import DEFAULT_MAX_BYTES, ParseResult, parse
from at_voice_kit.contracts.actionxml.problems import (
    DOCUMENT_PATH,
    RULE_VERDICTS,
    InvalidActionXML,
    Problem,
    Rule,
    Severity,
    Verdict,
)
from at_voice_kit.contracts.actionxml.render import CONTENT_TYPE, XML_DECLARATION, render
from at_voice_kit.contracts.actionxml.rules import validate

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_MAX_BYTES",
    "DOCUMENT_PATH",
    "RULE_VERDICTS",
    "XML_DECLARATION",
    "XSD_PATH",
    "Action",
    "Conference",
    "Dequeue",
    "Dial",
    "Enqueue",
    "GetDigits",
    "InvalidActionXML",
    "ParseResult",
    "Play",
    "Problem",
    "Prompt",
    "Record",
    "Redirect",
    "Reject",
    "Response",
    "ResponseBuilder",
    "Rule",
    "Say",
    "Severity",
    "Verdict",
    "Voice",
    "parse",
    "render",
    "validate",
]
