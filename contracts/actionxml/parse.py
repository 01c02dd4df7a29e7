"""Reading untrusted ActionXML: typed actions, or every problem, and never an exception.

Documents come from apps we do not control (the simulator executes them, ``atsim verify``
and ``atsim lint`` judge them), so parsing is defensive: a size limit checked before any
parsing, ``defusedxml`` with DTDs forbidden outright (ActionXML has no DTD, and refusing
them stops entity expansion, "billion laughs", and external entities alike), and a depth
cut-off, since nothing deeper than ``Response/GetDigits/Say/x`` is ever judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import DefusedXMLParser

from at_voice_kit.contracts.actionxml.elements import WireElement, typed_response
from at_voice_kit.contracts.actionxml.grammar import SAY, is_ssml_markup
from at_voice_kit.contracts.actionxml.lenient import executable_response
from at_voice_kit.contracts.actionxml.model import Response
from at_voice_kit.contracts.actionxml.problems import DOCUMENT_PATH, Problem, Rule, Severity
from at_voice_kit.contracts.actionxml.rules import check_document
from at_voice_kit.contracts.charsets import UnsupportedCharset, charset_named, supported_names

DEFAULT_MAX_BYTES = 64 * 1024
"""Default size limit. Real answers are a few hundred bytes; 64 KiB leaves room for long
``Say`` texts while keeping a hostile document cheap to refuse. AT documents no limit."""

_MAX_DEPTH = 4
"""Elements deeper than this are dropped while reading: a problem is always reported at or
above this depth (``Response/GetDigits/Say/x``: ``x`` is out of place), so nothing is lost."""


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The outcome of :func:`parse`.

    ``response`` is the typed document when it broke no rule, else ``None``; ``problems``
    lists every broken rule in document order, each with its
    :attr:`~at_voice_kit.contracts.actionxml.problems.Problem.severity`; ``notes`` are accepted
    oddities worth telling the author about (AT's alternative spellings ``callBackUrl`` and
    ``ringbackTone``). ``executable`` is what AT would most plausibly carry out of the
    document (:mod:`~at_voice_kit.contracts.actionxml.lenient`): ``response`` itself when
    there is one, the usable actions when some rules are broken, ``None`` when nothing of
    it is usable (not XML, no ``Response`` root).
    """

    response: Response | None
    problems: tuple[Problem, ...] = ()
    notes: tuple[Problem, ...] = ()
    executable: Response | None = None

    @property
    def ok(self) -> bool:
        """Whether the document is valid ActionXML: it breaks no rule at all."""
        return not self.problems

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that break the app on AT."""
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems AT most plausibly lives with (fragile, undocumented, ignored)."""
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)

    @property
    def works_on_at(self) -> bool:
        """Whether the document has no error (warnings allowed): AT's verdict."""
        return not self.errors


def parse(document: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParseResult:
    """Parse and validate an untrusted ActionXML document.

    Bytes are decoded as XML says (declaration, BOM; UTF-8 by default); a declared encoding
    must be one of :mod:`at_voice_kit.contracts.charsets` (another is a ``not-xml`` problem). Never
    raises on any document: every defect, from "not XML" to a bad attribute value, is a
    :class:`Problem`. ``max_bytes`` (the size of the document in bytes; str is measured as UTF-8)
    must be positive.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, not {max_bytes}")
    refusal = _refuse_before_parsing(document, max_bytes)
    if refusal is not None:
        return ParseResult(None, (refusal,))
    root = _read_tree(document)
    if isinstance(root, Problem):
        return ParseResult(None, (root,))
    findings = check_document(root)
    if findings.problems:
        executable = executable_response(root, findings.problems)
        return ParseResult(None, findings.problems, findings.notes, executable)
    response = typed_response(root)
    return ParseResult(response, (), findings.notes, response)


def _document_problem(rule: Rule, message: str, line: int | None = None) -> Problem:
    return Problem(DOCUMENT_PATH, None, None, rule, message, line)


def _refuse_before_parsing(document: object, max_bytes: int) -> Problem | None:
    if isinstance(document, bytearray | memoryview):
        document = bytes(document)
    if isinstance(document, bytes):
        size: int | None = len(document)
    elif isinstance(document, str):
        # Each character is at least one byte, so a long str is refused without encoding it.
        size = None if len(document) > max_bytes else _utf8_size(document)
    else:
        return _document_problem(
            Rule.NOT_XML, f"the document must be str or bytes, not {type(document).__name__}"
        )
    if size is None or size > max_bytes:
        return too_large(max_bytes, size)
    return None


def too_large(max_bytes: int, size: int | None = None) -> Problem:
    """The ``too-large`` problem of a document over ``max_bytes`` (``size`` if known)."""
    actual = "" if size is None else f" ({size} bytes)"
    message = f"the document is over the size limit of {max_bytes} bytes{actual}"
    return _document_problem(Rule.TOO_LARGE, message)


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


class _OpenElement:
    """An element whose end tag has not been read yet."""

    __slots__ = ("attributes", "children", "line", "markup", "name", "text")

    def __init__(
        self, name: str, attributes: tuple[tuple[str, str], ...], line: int | None
    ) -> None:
        self.name = name
        self.attributes = attributes
        self.line = line
        self.text: list[str] = []
        self.children: list[WireElement] = []
        self.markup: dict[str, None] = {}  # an ordered set of SSML element names

    def close(self) -> WireElement:
        return WireElement(
            self.name,
            self.attributes,
            "".join(self.text),
            tuple(self.children),
            self.line,
            markup=tuple(self.markup),
        )

    def takes_markup(self, tag: str) -> bool:
        """Whether a child element ``tag`` is SSML markup in this element's text."""
        return self.name == SAY.name and is_ssml_markup(tag)


class _TreeReader:
    """ElementTree parser target building :class:`WireElement` trees with line numbers.

    SSML markup in a ``Say`` (``<speak>``, ``<break/>``, ...) is read into the Say itself:
    its text joins the Say's text in document order (as ``itertext()`` would give it) and
    its names the Say's ``markup``, however deep it goes, so a spoken text is never cut.
    """

    def __init__(self) -> None:
        self.expat: Any = None  # pyexpat parser object, for line numbers (untyped C object)
        self.open: list[_OpenElement] = []
        self.depth = 0
        self.markup_depth = 0  # > 0 while inside SSML markup of the innermost open Say
        self.root: WireElement | None = None

    @property
    def line(self) -> int | None:
        return None if self.expat is None else int(self.expat.CurrentLineNumber)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.markup_depth or (
            self.open and len(self.open) == self.depth and self.open[-1].takes_markup(tag)
        ):
            self.markup_depth += 1
            self.open[-1].markup[tag] = None
            return
        self.depth += 1
        if self.depth <= _MAX_DEPTH:
            attributes = tuple((_display_name(name), value) for name, value in attrib.items())
            self.open.append(_OpenElement(tag, attributes, self.line))

    def end(self, tag: str) -> None:
        if self.markup_depth:
            self.markup_depth -= 1
            return
        if self.depth <= _MAX_DEPTH:
            closed = self.open.pop().close()
            if self.open:
                self.open[-1].children.append(closed)
            else:
                self.root = closed
        self.depth -= 1

    def data(self, text: str) -> None:
        if self.markup_depth or (self.open and self.depth <= _MAX_DEPTH):
            self.open[-1].text.append(text)

    def close(self) -> WireElement | None:
        return self.root


def _display_name(name: str) -> str:
    # The xml: prefix is fixed by the XML spec, so xml:lang can be shown as written; other
    # namespaced names stay in ElementTree's {uri}local form, as their prefix is arbitrary.
    if name.startswith(_XML_NAMESPACE):
        return "xml:" + name[len(_XML_NAMESPACE) :]
    return name


_XML_NAMESPACE = "{http://www.w3.org/XML/1998/namespace}"


def _declared_encoding(document: bytes) -> str | None:
    """The encoding the XML declaration names, or ``None`` if there is no declaration.

    Looked for as XML's appendix F does: in UTF-16 when the first bytes say so (a byte order
    mark, or ``<?`` in two bytes each), else in an ASCII-compatible encoding.
    """
    head = document[:_DECLARATION_BYTES]
    if head.startswith((b"\xff\xfe", b"<\x00?\x00")):
        text = head.decode("utf-16-le", "replace")
    elif head.startswith((b"\xfe\xff", b"\x00<\x00?")):
        text = head.decode("utf-16-be", "replace")
    else:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")  # a UTF-8 byte order mark
    match = _XML_DECLARATION.match(text)
    return match.group("encoding") if match else None


def _expat_encoding(document: str | bytes) -> str | None:
    """The encoding expat is told to read ``document`` in (``None``: as XML says, which
    without a declaration means UTF-8 or UTF-16 by the byte order mark).

    A declared encoding is matched against :mod:`at_voice_kit.contracts.charsets`, never handed to
    Python's codec registry (pyexpat would look up any name it does not know itself);
    :class:`~at_voice_kit.contracts.charsets.UnsupportedCharset` for one not on the allow-list.
    """
    if isinstance(document, str):
        return None  # already text: expat reads it as UTF-8 whatever it declares
    declared = _declared_encoding(document)
    if declared is None:
        return None
    charset = charset_named(declared)
    if charset is None:
        raise UnsupportedCharset(declared)
    return charset.name


def _read_tree(document: str | bytes) -> WireElement | Problem:
    reader = _TreeReader()
    try:
        encoding = _expat_encoding(document)
    except UnsupportedCharset as error:
        message = (
            f"not well-formed XML: unsupported encoding {error.shown!r} "
            f"(ActionXML is read in {supported_names()})"
        )
        return _document_problem(Rule.NOT_XML, message)
    parser = DefusedXMLParser(
        target=reader,
        encoding=encoding,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    reader.expat = parser.parser
    if isinstance(document, str) and document.startswith("\ufeff"):
        document = document[1:]  # a BOM is an encoding mark, meaningless once decoded
    try:
        parser.feed(document)
        root = parser.close()
    except ParseError as error:
        line = error.position[0] if error.position else None
        return _document_problem(Rule.NOT_XML, f"not well-formed XML: {error.msg}", line)
    except DTDForbidden:
        return _document_problem(Rule.DTD_FORBIDDEN, _DTD_MESSAGE, reader.line)
    except EntitiesForbidden:
        message = _DTD_MESSAGE + " (this one declares entities)"
        return _document_problem(Rule.DTD_FORBIDDEN, message, reader.line)
    except DefusedXmlException as error:
        return _document_problem(Rule.DTD_FORBIDDEN, f"{_DTD_MESSAGE} ({error})", reader.line)
    except UnicodeError as error:
        return _document_problem(
            Rule.NOT_XML, f"not well-formed XML: cannot decode or encode it ({error})"
        )
    except (LookupError, ValueError) as error:
        # Not expected once the declared encoding is allow-listed; kept so that whatever
        # pyexpat raises about an encoding stays a problem, never an exception.
        message = f"not well-formed XML: unsupported encoding ({error})"
        return _document_problem(Rule.NOT_XML, message, reader.line)
    if not isinstance(root, WireElement):
        return _document_problem(Rule.NOT_XML, "not well-formed XML: no root element")
    return root


_DECLARATION_BYTES = 512
"""Room enough for any real XML declaration (with a byte order mark, in UTF-16)."""
_XML_DECLARATION = re.compile(
    r"\A\ufeff?<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(\"[^\"]*\"|'[^']*')"
    r"[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*([\"'])(?P<encoding>[^\"']*)\2"
)

_DTD_MESSAGE = (
    "ActionXML takes no DTD (<!DOCTYPE ...>): DTDs, entity declarations and external "
    "entities are refused, as they enable entity-expansion and external-entity attacks"
)
