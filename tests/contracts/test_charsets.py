"""The charset allow-list: real text charsets by their names, nothing from Python's registry."""

from __future__ import annotations

import codecs
import time
from collections.abc import Iterator

import pytest

from at_voice_kit.contracts.charsets import (
    ISO_8859_1,
    SUPPORTED,
    US_ASCII,
    UTF_8,
    UTF_16,
    UTF_16BE,
    UTF_16LE,
    WINDOWS_1252,
    Charset,
    UnsupportedCharset,
    charset_named,
    charset_parameter,
    decode_leniently,
    decode_strictly,
)

HOSTILE_LABELS = [
    "punycode",  # quadratic: a megabyte took minutes
    "unicode_escape",  # "\\ud800" becomes a lone surrogate
    "raw_unicode_escape",
    "utf-7",  # "+2AA-" becomes a lone surrogate
    "utf_7",
    "rot13",  # no text encoding at all
    "base64",
    "hex",
    "zlib",
    "idna",
    "undefined",
    "mbcs",
    "",
    "utf-8" * 20,  # too long to be any name
]
PUNYCODE_MEGABYTE = b"x" * 500_000 + b"-" + b"ba" * 250_000
"""A form-sized body Python's punycode decoder spends minutes on (quadratic inserts)."""
PROBE_CODEC = "x-atsim-probe"


@pytest.mark.parametrize(
    ("label", "charset"),
    [
        ("utf-8", UTF_8),
        ("UTF8", UTF_8),
        (' "Utf-8" ', UTF_8),
        ("us-ascii", US_ASCII),
        ("ANSI_X3.4-1968", US_ASCII),
        ("iso-8859-1", ISO_8859_1),
        ("Latin-1", ISO_8859_1),
        ("csISOLatin1", ISO_8859_1),
        ("windows-1252", WINDOWS_1252),
        ("cp1252", WINDOWS_1252),
        ("UTF-16", UTF_16),
        ("utf-16be", UTF_16BE),
        ("UTF-16LE", UTF_16LE),
    ],
)
def test_supported_charsets_are_found_by_their_names_and_aliases(
    label: str, charset: Charset
) -> None:
    assert charset_named(label) is charset


@pytest.mark.parametrize("charset", SUPPORTED, ids=lambda charset: charset.name)
def test_every_supported_charset_decodes_text_and_only_text(charset: Charset) -> None:
    text = "Karibu" if charset is US_ASCII else "café"
    assert decode_strictly(text.encode(charset.codec), charset.name) == text
    # Whatever the bytes, lenient decoding gives real text: no lone surrogate.
    for raw in (b"\x00\xd8\x00\xd8", bytes(range(256)), b"+2AA-", b"\\ud800"):
        decode_leniently(raw, charset.name).encode("utf-8")


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_codecs_that_are_no_charset_are_refused_or_read_as_utf8(label: str) -> None:
    assert charset_named(label) is None
    with pytest.raises(UnsupportedCharset, match="is not supported"):
        decode_strictly(b"to=%2B254711082001", label)
    assert decode_leniently(b"caf\xc3\xa9 \\ud800 +2AA-", label) == "caf\u00e9 \\ud800 +2AA-"


def test_no_label_means_utf8() -> None:
    assert decode_strictly("café".encode(), None) == "café"
    assert decode_leniently(b"caf\xe9", None) == "caf\ufffd"
    with pytest.raises(UnicodeDecodeError):
        decode_strictly(b"caf\xe9", None)


@pytest.fixture
def codec_lookups() -> Iterator[list[str]]:
    """Every name Python's codec registry is asked for that it does not know already."""
    asked: list[str] = []

    def search(name: str) -> codecs.CodecInfo | None:
        asked.append(name)
        return None

    codecs.register(search)
    yield asked
    codecs.unregister(search)


def test_a_label_from_the_wire_never_reaches_pythons_codec_registry(
    codec_lookups: list[str],
) -> None:
    decode_leniently(b"<Response/>", PROBE_CODEC)
    with pytest.raises(UnsupportedCharset):
        decode_strictly(b"<Response/>", PROBE_CODEC)
    assert codec_lookups == []


def test_a_megabyte_in_a_quadratic_codec_is_read_at_once() -> None:
    """Python's punycode decoder took minutes over this; the label now reads as UTF-8.
    (The bound is generous: the decoding takes milliseconds.)"""
    started = time.perf_counter()
    text = decode_leniently(PUNYCODE_MEGABYTE, "punycode")
    assert time.perf_counter() - started < 10
    assert text == PUNYCODE_MEGABYTE.decode("ascii")


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        (None, None),
        ("text/plain", None),
        ("text/plain; charset=UTF-8", "UTF-8"),
        ('application/xml; Charset="utf-16"', "utf-16"),
        ("text/plain; format=flowed; charset = latin1 ", "latin1"),
        ("text/plain; charset*=punycode''abc-def", None),  # RFC 2231: not decoded, not used
    ],
)
def test_the_charset_parameter_is_read_as_written(
    content_type: str | None, charset: str | None
) -> None:
    assert charset_parameter(content_type) == charset
