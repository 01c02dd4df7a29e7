"""The text charsets untrusted bytes are decoded with: a short allow-list, matched by name.

A ``charset`` parameter comes from whoever sent the bytes. Python's codec registry, which
``bytes.decode(name)`` and ``codecs.lookup(name)`` consult, holds far more than charsets:
``punycode`` (quadratic: a one-megabyte form took 198 s, on the simulator's event loop),
``unicode_escape`` and ``utf-7`` (they turn ``\\ud800`` into a lone surrogate, which is no
text), ``rot13`` and ``base64`` (no text encodings at all), and whatever codecs installed
packages register. So a name from the wire is looked up here, in a fixed table of aliases,
and never handed to the registry; decoding uses the Python codec the table names. Every
codec in the table decodes in linear time and yields real text (no lone surrogates).

The allow-list is Java's six standard charsets (every JVM has them, and AT's platform is
akka-http on the JVM: ``UTF-8``, ``US-ASCII``, ``ISO-8859-1``, ``UTF-16``, ``UTF-16BE``,
``UTF-16LE``) plus ``windows-1252``, which Windows and PHP stacks send and browsers read the
Latin-1 labels as. Names are matched case-insensitively against their IANA aliases.

Both sides read through it: the simulator's REST request bodies, its reading of webhook
answers (the platform and ``atsim verify``), the encoding an ActionXML document declares
(``atsim lint``), and the service's form bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LABEL_LENGTH = 64
"""Longer than any alias in the table; longer labels are not looked at."""


@dataclass(frozen=True, slots=True)
class Charset:
    """One supported charset: its IANA name (as messages show it) and the Python codec."""

    name: str
    codec: str

    def decode(self, raw: bytes) -> str:
        """``raw`` as text; ``UnicodeDecodeError`` if it is not text in this charset."""
        return raw.decode(self.codec)

    def decode_leniently(self, raw: bytes) -> str:
        """``raw`` as text, every byte sequence that is not text replaced by U+FFFD."""
        return raw.decode(self.codec, errors="replace")


UTF_8 = Charset("UTF-8", "utf-8")
US_ASCII = Charset("US-ASCII", "ascii")
ISO_8859_1 = Charset("ISO-8859-1", "latin-1")
WINDOWS_1252 = Charset("windows-1252", "cp1252")
UTF_16 = Charset("UTF-16", "utf-16")
UTF_16BE = Charset("UTF-16BE", "utf-16-be")
UTF_16LE = Charset("UTF-16LE", "utf-16-le")

SUPPORTED: tuple[Charset, ...] = (
    UTF_8, US_ASCII, ISO_8859_1, WINDOWS_1252, UTF_16, UTF_16BE, UTF_16LE,
)  # fmt: skip
UTF8_READABLE = frozenset({UTF_8, US_ASCII})
"""Charsets whose text is UTF-8 as it stands (ASCII is a subset): what the service takes."""

_ALIASES: dict[str, Charset] = {
    alias: charset
    for charset, aliases in (
        # IANA's names and aliases (www.iana.org/assignments/character-sets), plus the
        # spellings Python and PHP programs commonly write (utf8, latin-1, cp1252).
        (UTF_8, "utf-8 utf8 csutf8 unicode-1-1-utf-8"),
        (
            US_ASCII,
            "us-ascii ascii us iso646-us iso-ir-6 ansi_x3.4-1968 ansi_x3.4-1986 "
            "iso_646.irv:1991 ibm367 cp367 csascii",
        ),
        (
            ISO_8859_1,
            "iso-8859-1 iso_8859-1 iso_8859-1:1987 iso8859-1 iso-ir-100 latin1 "
            "latin-1 l1 ibm819 cp819 csisolatin1",
        ),
        (WINDOWS_1252, "windows-1252 cp1252 x-cp1252 cswindows1252"),
        (UTF_16, "utf-16 utf16 csutf16"),
        (UTF_16BE, "utf-16be csutf16be"),
        (UTF_16LE, "utf-16le csutf16le"),
    )
    for alias in aliases.split()
}


class UnsupportedCharset(ValueError):
    """A charset label that is not on the allow-list; the message names it and the list."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = label if len(label) <= MAX_LABEL_LENGTH else label[:MAX_LABEL_LENGTH] + "..."
        """The label as messages show it (cut short: it is whatever the sender wrote)."""
        super().__init__(
            f"the charset {self.shown!r} is not supported (use one of {supported_names()})"
        )


def supported_names() -> str:
    """The supported charsets' names, for messages: ``UTF-8, US-ASCII, ...``."""
    return ", ".join(charset.name for charset in SUPPORTED)


def charset_named(label: str) -> Charset | None:
    """The supported charset ``label`` names (any case, surrounding blanks and quotes
    ignored), or ``None``: the label itself never reaches Python's codec registry."""
    key = label.strip().strip("\"'").strip().lower()
    if len(key) > MAX_LABEL_LENGTH:
        return None
    return _ALIASES.get(key)


def charset_parameter(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` value as written, or ``None``.

    Read here rather than with :mod:`email` (what ``httpx.Response.charset_encoding`` does),
    which decodes RFC 2231 parameters (``charset*=...''...``) with whatever codec they name.
    """
    for parameter in (content_type or "").split(";")[1:]:
        name, equals, value = parameter.partition("=")
        if equals and name.strip().lower() == "charset":
            return value.strip().strip('"').strip()
    return None


def decode_strictly(raw: bytes, label: str | None, default: Charset = UTF_8) -> str:
    """``raw`` as text in the charset ``label`` names (``default`` when there is none).

    Raises :class:`UnsupportedCharset` for a label not on the allow-list, and
    ``UnicodeDecodeError`` for bytes that are not text in that charset: for request bodies,
    where a sender is told what is wrong rather than having its text guessed at.
    """
    charset = default if label is None else charset_named(label)
    if charset is None:
        raise UnsupportedCharset(label or "")
    return charset.decode(raw)


def decode_leniently(raw: bytes, label: str | None) -> str:
    """``raw`` as text in the charset ``label`` names, else UTF-8; bad bytes become U+FFFD.

    For answers an app sent, which the platform reads as best it can: an unknown or
    unsupported label reads as UTF-8 (it never reaches Python's codec registry).
    """
    charset = charset_named(label) if label else None
    return (charset or UTF_8).decode_leniently(raw)
