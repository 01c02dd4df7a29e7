"""Showing text an app (or anyone) sent: on a terminal, in a log, in JSON, never a crash.

What an app answers ends up in ``atsim verify``'s reports, in the timelines of ``atsim
call``/``dial``/``demo`` and in ``atsim lint``'s messages. Written as it came, it can hold
control characters (an ``ESC [2J`` clears the reader's terminal, a ``\\r`` or ``\\n`` forges a
report line), bidirectional overrides that make a line read other than it is, and lone
surrogates, which no stream can encode (``UnicodeEncodeError``: the report is lost). These
functions write every such character as its Python escape (``\\x1b``, ``\\n``, ``\\u202e``,
``\\ud800``), so the reader sees what was sent, and everything prints.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO


def _escape(character: str) -> str:
    return character.encode("unicode_escape").decode("ascii")


def printable(text: str) -> str:
    """``text`` for one line of output: every character that is not printable (control
    characters and line breaks, format characters such as bidi overrides, lone surrogates,
    unassigned code points) written as its escape; spaces and printable text kept."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def printable_lines(text: str) -> str:
    """Multi-line ``text`` with each line made :func:`printable` (the ``\\n`` between lines
    kept: this is for text whose lines the program itself wrote)."""
    return "\n".join(printable(line) for line in text.split("\n"))


def real_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so that it can be encoded as
    UTF-8 (JSON and XML output must be Unicode text); surrogate pairs are joined."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def never_fail_to_print(*streams: TextIO) -> None:
    """Make ``streams`` (standard output and error) write a character their encoding cannot
    carry as an escape instead of raising: a report printed to an ASCII or Latin-1 terminal
    (``LANG=C``, ``PYTHONIOENCODING``) must not die on the first ``é`` an app answered."""
    for stream in streams or (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
