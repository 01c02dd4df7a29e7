"""Reading an app's answer: bounded whatever its size or compression, lenient about charsets."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import httpx
import pytest

from at_voice_kit.simulator.delivery.answer_body import (
    AnswerBody,
    UnreadableBody,
    decode_text,
    read_answer_body,
)

XML = b'<?xml version="1.0" encoding="UTF-8"?><Response><Say>Karibu</Say></Response>'


def read(body: bytes, max_bytes: int = 1_000_000, **headers: str) -> AnswerBody:
    header_list = [(name.replace("_", "-"), value) for name, value in headers.items()]
    response = httpx.Response(200, headers=header_list, stream=httpx.ByteStream(body))
    return asyncio.run(read_answer_body(response, max_bytes))


def test_a_plain_body_is_read_whole() -> None:
    assert read(XML) == AnswerBody(XML.decode())


def test_a_body_over_the_limit_is_cut_and_flagged() -> None:
    answer = read(b"x" * 5000, max_bytes=1000)
    assert answer.too_large and answer.text == "x" * 1000
    assert not read(b"x" * 1000, max_bytes=1000).too_large


def test_a_gzip_bomb_is_unpacked_only_up_to_the_limit() -> None:
    bomb = gzip.compress(b" " * 20_000_000)
    assert len(bomb) < 100_000
    answer = read(bomb, max_bytes=1000, Content_Encoding="gzip")
    assert answer.too_large and answer.text == " " * 1000


@pytest.mark.parametrize(
    ("coding", "packed"),
    [
        ("gzip", gzip.compress(XML)),
        ("x-gzip", gzip.compress(XML)),
        ("deflate", zlib.compress(XML)),
        ("deflate", zlib.compress(XML)[2:-4]),  # raw deflate, without the zlib wrapper
        ("identity", XML),
    ],
    ids=["gzip", "x-gzip", "deflate", "raw-deflate", "identity"],
)
def test_compressed_answers_are_unpacked(coding: str, packed: bytes) -> None:
    assert read(packed, Content_Encoding=coding).text == XML.decode()


@pytest.mark.parametrize(
    ("coding", "packed", "message"),
    [
        ("gzip", b"\x1f\x8b not really gzip", "corrupt"),
        ("deflate", b"neither zlib nor raw deflate \xff\xff", "corrupt"),
        ("br", XML, "'br' is not supported"),
    ],
    ids=["gzip", "deflate", "br"],
)
def test_unreadable_compression_is_an_error_not_a_crash(
    coding: str, packed: bytes, message: str
) -> None:
    with pytest.raises(UnreadableBody, match=message):
        read(packed, Content_Encoding=coding)


@pytest.mark.parametrize(
    ("raw", "charset", "text"),
    [
        ("café".encode("latin-1"), "iso-8859-1", "café"),
        ("café".encode(), None, "café"),
        (b"caf\xe9", "utf-8", "caf\ufffd"),  # not UTF-8 after all: replaced, not raised
        (b"<Response/>", "rot13", "<Response/>"),  # a codec, but not a text encoding
        (b"<Response/>", "hex", "<Response/>"),
        (b"<Response/>", "no-such-charset", "<Response/>"),
        (b"\xff<Response/>", "idna", "\ufffd<Response/>"),  # refuses errors="replace"
        # Codecs that made "\ud800" a lone surrogate (the report of atsim verify crashed on it).
        (b"<Say>\\ud800</Say>", "unicode_escape", "<Say>\\ud800</Say>"),
        (b"<Say>+2AA-</Say>", "utf-7", "<Say>+2AA-</Say>"),
        ("caf\u00e9 \u20ac".encode("cp1252"), "Windows-1252", "caf\u00e9 \u20ac"),
    ],
)
def test_text_is_decoded_leniently(raw: bytes, charset: str | None, text: str) -> None:
    assert decode_text(raw, charset) == text


def test_a_megabyte_answer_declared_punycode_is_read_at_once() -> None:
    """Python's punycode decoder is quadratic: this answer held the event loop (every call,
    the admin API) for 192 s. It now reads as UTF-8. (A generous bound: it takes ms.)"""
    body = b"x" * 499_000 + b"-" + b"ba" * 250_000  # 999 KB, under the 1 MB limit
    started = time.perf_counter()
    answer = read(body, Content_Type="text/plain; charset=punycode")
    assert time.perf_counter() - started < 10
    assert answer == AnswerBody(body.decode("ascii"))


def test_the_declared_charset_is_used_when_it_is_a_text_encoding() -> None:
    body = "<Response><Say>Ẹ káàárọ̀</Say></Response>".encode("utf-16")
    answer = read(body, Content_Type="application/xml; charset=utf-16")
    assert answer.text == "<Response><Say>Ẹ káàárọ̀</Say></Response>"


def test_a_response_already_read_in_memory_is_bounded_too() -> None:
    answer = asyncio.run(read_answer_body(httpx.Response(200, content=b"y" * 3000), 1000))
    assert answer == AnswerBody("y" * 1000, too_large=True)
    small = asyncio.run(read_answer_body(httpx.Response(200, content=XML), 1000))
    assert small == AnswerBody(XML.decode())
