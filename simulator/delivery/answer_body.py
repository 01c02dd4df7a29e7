"""Reading an app's answer body defensively: bounded in size, whatever the app sends.

An app under test may answer anything: 50 MB, a gzip bomb (kilobytes on the wire, gigabytes
unpacked), bytes in no encoding, a ``charset`` that names no text codec. The platform reads
at most ``max_bytes`` of the *decoded* body (compressed bodies are unpacked with a bounded
zlib, never all at once), stops there, and decodes the text leniently with an allow-listed
charset (linear time), so the worst answer costs a bounded amount of memory and time on the
event loop, and never raises anything but :class:`UnreadableBody`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import httpx

from at_voice_kit.contracts.charsets import charset_parameter, decode_leniently

ACCEPT_ENCODING = "gzip, deflate"
"""The content codings the platform can unpack within its bounds."""
_GZIP = ("gzip", "x-gzip")


class UnreadableBody(Exception):
    """The body is compressed in a coding the platform does not read, or corrupt."""


@dataclass(frozen=True, slots=True)
class AnswerBody:
    """The body as text (lenient decoding) and whether it went over the size limit.

    When ``too_large``, ``text`` holds only the first ``max_bytes`` bytes: the rest was
    never read.
    """

    text: str
    too_large: bool = False


class _BoundedDecoder:
    """Unpacks a ``Content-Encoding`` chunk by chunk, never more than it is asked for."""

    def __init__(self, coding: str) -> None:
        self._coding = coding.strip().lower()
        self._started = False
        self._zlib: zlib._Decompress | None
        if self._coding in ("", "identity"):
            self._zlib = None
        elif self._coding in _GZIP:
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self._coding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise UnreadableBody(f"Content-Encoding {coding!r} is not supported")

    def feed(self, data: bytes, room: int) -> bytes:
        """At most ``room`` (>= 1) bytes of body from ``data``; the rest is never unpacked."""
        if self._zlib is None:
            return data[:room]
        try:
            unpacked = self._zlib.decompress(data, room)
        except zlib.error as exc:
            if self._coding == "deflate" and not self._started:
                # "deflate" is often sent raw, without the zlib wrapper (httpx reads both).
                self._started = True
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.feed(data, room)
            raise UnreadableBody(f"the compressed body is corrupt ({exc})") from None
        self._started = True
        return unpacked


async def read_answer_body(response: httpx.Response, max_bytes: int) -> AnswerBody:
    """Read ``response``'s body (streamed) up to ``max_bytes`` decoded bytes, then stop."""
    charset = charset_parameter(response.headers.get("content-type"))
    if response.is_stream_consumed:
        # Built in memory (a test double, a transport that read it already): httpx has
        # unpacked it, so only the size bound is left to apply.
        content = response.content
        too_large = len(content) > max_bytes
        return AnswerBody(decode_text(content[:max_bytes], charset), too_large)
    decoder = _BoundedDecoder(response.headers.get("content-encoding", ""))
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += decoder.feed(chunk, max_bytes + 1 - len(body))
        if len(body) > max_bytes:
            return AnswerBody(decode_text(bytes(body[:max_bytes]), charset), True)
    return AnswerBody(decode_text(bytes(body), charset))


def decode_text(raw: bytes, charset: str | None) -> str:
    """``raw`` as text in the declared ``charset``, else UTF-8; bad bytes become U+FFFD.

    Only the real text charsets of :mod:`at_voice_kit.contracts.charsets` are applied: any other
    label (``rot13``, a typo, or ``punycode``, whose decoder is quadratic and held the event loop
    for minutes over a megabyte) reads as UTF-8, as it never reaches Python's codec registry.
    """
    return decode_leniently(raw, charset)
