"""Writing typed values as ActionXML documents, only ever valid ones.

The output is one line, exactly as AT's samples start:
``<?xml version="1.0" encoding="UTF-8"?><Response>...``. Attributes come in the grammar's
canonical order and spelling; absent (``None``) attributes are left out, so AT's default
applies. Every value is escaped, including the characters XML parsers would otherwise
normalise away (``\\r`` in text; tab, newline and ``\\r`` in attributes), so a parse gives
back exactly the value rendered.
"""

from __future__ import annotations

from at_voice_kit.contracts.actionxml.elements import WireElement, wire_response
from at_voice_kit.contracts.actionxml.model import Response
from at_voice_kit.contracts.actionxml.problems import InvalidActionXML
from at_voice_kit.contracts.actionxml.rules import check_document

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)

CONTENT_TYPE = "text/plain"
"""The ``Content-Type`` AT's samples answer ActionXML with (apps may also use XML types)."""


def render(response: Response) -> str:
    """The ActionXML document of ``response``.

    Raises :class:`~at_voice_kit.contracts.actionxml.problems.InvalidActionXML`, listing every
    problem, if ``response`` breaks any rule of the grammar (see :func:`validate`): a document that
    AT would reject is never produced.
    """
    root = wire_response(response)
    problems = check_document(root).problems
    if problems:
        raise InvalidActionXML(problems)
    return XML_DECLARATION + _element(root)


def escape_text(value: str) -> str:
    """``value`` escaped for element content."""
    return value.translate(_TEXT_ESCAPES)


def escape_attribute(value: str) -> str:
    """``value`` escaped for a double-quoted attribute."""
    return value.translate(_ATTRIBUTE_ESCAPES)


def _element(element: WireElement) -> str:
    attributes = "".join(
        f' {name}="{escape_attribute(value)}"' for name, value in element.attributes
    )
    content = escape_text(element.text) + "".join(_element(child) for child in element.children)
    if not content:
        return f"<{element.name}{attributes}/>"
    return f"<{element.name}{attributes}>{content}</{element.name}>"
