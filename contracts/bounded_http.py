"""The HTTP/1.1 protocol both servers run (the service under gunicorn, ``atsim serve``):
uvicorn's (httptools), with a bound on how long a request may take to arrive, its head
bounded, and a cap on the requests a process answers at once.

uvicorn by itself waits for a request for as long as the client likes: a connection that
sends nothing, or a request line, headers or body a byte at a time, holds its socket
forever, and enough of them make a server refuse everyone (slowloris). With
:class:`BoundedReadProtocol` each request must arrive whole, from its first byte (or the
connection's opening) to the last byte of its body, within ``read_timeout`` seconds; a
connection that misses it is answered 408 and closed. The time the app takes to answer is
not counted. Between requests, an idle kept-alive connection is closed after uvicorn's
``timeout_keep_alive``. The request head is bounded as gunicorn bounds it. A process already
answering ``max_in_flight`` requests answers the next ones 503 before the app sees them:
under a burst a refusal costs little, and every request taken on is answered in time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_READ_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_LINE = 8190
DEFAULT_MAX_FIELDS = 100
DEFAULT_MAX_FIELD_SIZE = 8190
"""gunicorn's own defaults for ``limit_request_line``, ``_fields`` and ``_field_size``."""
DEFAULT_MAX_IN_FLIGHT = 500
BUSY_RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """How long a request may take to arrive, and how large its head may be."""

    read_timeout: float = DEFAULT_READ_TIMEOUT_SECONDS
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    """Requests a worker answers at once; more are answered 503 before the app sees them."""
    max_line: int = DEFAULT_MAX_LINE
    max_fields: int = DEFAULT_MAX_FIELDS
    max_field_size: int = DEFAULT_MAX_FIELD_SIZE
    on_last_request: Callable[[], None] | None = None
    """Called when the request that reaches the server's request limit arrives: the server
    stops accepting connections then, so that a client's next one waits in the listening
    socket's queue for a process still serving, instead of being accepted and then closed
    unanswered when this one stops."""


class _Refused(Exception):
    """A request head over a limit: answered with ``message`` and the connection closed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BoundedReadProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request to arrive whole, limits
    on its request line and headers, and on the requests answered at once (see the module's
    docstring)."""

    limits: ClassVar[RequestLimits] = RequestLimits()
    """The limits of every connection of this class (:func:`bounded_protocol` sets others)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = self.limits
        self._deadline: Any = None
        self._header_count = 0
        self._refusal: str | None = None

    def connection_made(self, transport: Any) -> None:
        """Start the clock: a connection that never sends a whole request is closed."""
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        """A request's first byte: its clock starts, unless the connection's already runs."""
        super().on_message_begin()
        self._header_count = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        """Refuse a request line over ``max_line`` bytes."""
        super().on_url(url)
        if len(self.url) > self._limits.max_line:
            raise self._refuse(f"Request line over {self._limits.max_line} bytes.")

    def on_header(self, name: bytes, value: bytes) -> None:
        """Refuse more than ``max_fields`` headers, or one over ``max_field_size`` bytes."""
        self._header_count += 1
        if self._header_count > self._limits.max_fields:
            raise self._refuse(f"More than {self._limits.max_fields} header fields.")
        if len(name) + len(value) + 2 > self._limits.max_field_size:
            raise self._refuse(f"A header field over {self._limits.max_field_size} bytes.")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """Hand the request to the app, or answer 503 at once when the worker already holds
        ``max_in_flight`` requests: under a burst, a refusal costs little, and every request
        the app takes on is answered in time."""
        if len(self.tasks) < self._limits.max_in_flight:
            super().on_headers_complete()
        else:
            app, self.app = self.app, _busy
            try:
                super().on_headers_complete()
            finally:
                self.app = app
        if self._last_before_exit() and self.cycle is not None:
            # The server stops once this request is answered (its request limit): the
            # answer says so (Connection: close), so the client sends its next request on a
            # new connection, to a process still serving, instead of on one being closed.
            self.cycle.keep_alive = False
            if self._limits.on_last_request is not None:
                self._limits.on_last_request()

    def _last_before_exit(self) -> bool:
        limit = self.config.limit_max_requests
        return limit is not None and self.server_state.total_requests + len(self.tasks) >= limit

    def on_message_complete(self) -> None:
        """The request arrived whole: what follows is the app's time, not the client's."""
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse; ours names the limit broken."""
        refusal, self._refusal = self._refusal, None
        super().send_400_response(refusal or msg)

    def _refuse(self, message: str) -> _Refused:
        self._refusal = message
        return _Refused(message)  # httptools turns it into a parser error: answered 400

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._limits.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        """The request did not arrive in time: 408 if nothing was answered yet, then close."""
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            body = b"The request did not arrive in time.\n"
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )
        self.transport.close()


def bounded_protocol(limits: RequestLimits) -> type[BoundedReadProtocol]:
    """:class:`BoundedReadProtocol` with ``limits``, as uvicorn's ``http`` setting takes it."""
    return type("BoundedReadProtocol", (BoundedReadProtocol,), {"limits": limits})


async def _busy(scope: Any, receive: Any, send: Any) -> None:
    """The answer to a request over ``max_in_flight``: 503, retry in a second."""
    body = b"Too many requests at once; nothing of this one was done, retry later.\n"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(BUSY_RETRY_AFTER_SECONDS).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
