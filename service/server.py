"""How the service is served: gunicorn workers running uvicorn (uvloop, httptools), with the
request read time, the request head and the access log bounded the way the service needs.

gunicorn supervises the processes (``service/gunicorn_conf.py`` names :class:`VoiceWorker`);
each worker runs one event loop that answers every request of its process, the webhooks
awaiting their batch's commit (``store/commit_queue.py``).

uvicorn by itself waits for a request for as long as the client likes: a connection that
sends nothing, or a request line, headers or body a byte at a time, holds its socket
forever, and enough of them make the service refuse everyone (slowloris). So each request
must arrive whole, from its first byte (or the connection's opening) to the last byte of its
body, within ``VOICE_READ_TIMEOUT`` seconds; a connection that misses it is answered 408 and
closed. The time the app takes to answer is not counted: that is the service's, and AT's own
10 s timeout bounds it. Between requests, an idle kept-alive connection is closed after
gunicorn's ``keepalive`` seconds, as uvicorn does. The request head is bounded as gunicorn
bounds it (``limit_request_line``, ``limit_request_fields``, ``limit_request_field_size``).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

READ_TIMEOUT_ENV = "VOICE_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT_SECONDS = 10.0
MAX_READ_TIMEOUT_SECONDS = 300.0
DEFAULT_MAX_LINE = 8190
DEFAULT_MAX_FIELDS = 100
DEFAULT_MAX_FIELD_SIZE = 8190
"""gunicorn's own defaults for ``limit_request_line``, ``_fields`` and ``_field_size``."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def read_timeout_from_env(environ: MutableMapping[str, str] = os.environ) -> float:
    """``VOICE_READ_TIMEOUT`` in seconds (default 10); a bad value stops the start, naming it."""
    raw = environ.get(READ_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_READ_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_READ_TIMEOUT_SECONDS:
        raise ValueError(
            f"{READ_TIMEOUT_ENV}: must be a number of seconds greater than 0 and at most "
            f"{MAX_READ_TIMEOUT_SECONDS:g}, got {raw!r}"
        )
    return value


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """How long a request may take to arrive, and how large its head may be."""

    read_timeout: float = DEFAULT_READ_TIMEOUT_SECONDS
    max_in_flight: int = 500
    """Requests a worker answers at once; more are answered 503 before the app sees them."""
    max_line: int = DEFAULT_MAX_LINE
    max_fields: int = DEFAULT_MAX_FIELDS
    max_field_size: int = DEFAULT_MAX_FIELD_SIZE


class _Refused(Exception):
    """A request head over a limit: answered with ``message`` and the connection closed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BoundedReadProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request to arrive whole, and
    limits on its request line and headers (see the module's docstring)."""

    def __init__(self, *args: Any, limits: RequestLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
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
            return
        app, self.app = self.app, _busy
        try:
            super().on_headers_complete()
        finally:
            self.app = app

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


BUSY_RETRY_AFTER_SECONDS = 1


async def _busy(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request over the worker's ``max_in_flight``: 503, retry in a second."""
    body = b"The service is busy; nothing was stored, retry later.\n"
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


class AccessLog:
    """An ASGI wrapper writing one access line per request to gunicorn's access log, in the
    format ``gunicorn_conf.access_log_format`` gives gunicorn's own workers: the path without
    its query string (it can carry phone numbers and the webhook secret). uvicorn's own
    access log prints the query string, so it is off."""

    def __init__(self, app: ASGIApp, logger: logging.Logger) -> None:
        self._app = app
        self._logger = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, noting the status and the body's size; log once it is done."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = {"status": 0, "size": 0}

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["size"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._app(scope, receive, noting_send)
        finally:
            self._logger.info(_access_line(scope, answer, time.perf_counter() - started))


def _access_line(scope: Scope, answer: dict[str, int], seconds: float) -> str:
    client = scope.get("client") or ("-", 0)
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    agent = next((v for k, v in scope["headers"] if k == b"user-agent"), b"-").decode("latin-1")
    return (
        f'{client[0]} "{scope["method"]} {path} HTTP/{scope["http_version"]}" '
        f'{answer["status"]} {answer["size"]} {int(seconds * 1000)}ms "{agent}"'
    )


class VoiceWorker(UvicornWorker):  # type: ignore[misc]  # uvicorn_worker is untyped
    """gunicorn's worker for the service: uvicorn on uvloop and httptools, each request
    bounded in read time and head size, at most ``worker_connections`` requests at once (more
    are answered 503 at once), the access log without query strings."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = RequestLimits(
            read_timeout=read_timeout_from_env(),
            max_in_flight=self.cfg.worker_connections,
            max_line=self.cfg.limit_request_line or DEFAULT_MAX_LINE,
            max_fields=self.cfg.limit_request_fields or DEFAULT_MAX_FIELDS,
            max_field_size=self.cfg.limit_request_field_size or DEFAULT_MAX_FIELD_SIZE,
        )
        self.config.http = functools.partial(BoundedReadProtocol, limits=limits)

    def load_wsgi(self) -> None:
        """Load the app (gunicorn's name for it), wrapped in the access log when one is kept."""
        super().load_wsgi()
        if self.cfg.accesslog:
            app: ASGIApp = self.wsgi  # type: ignore[has-type]  # gunicorn's attribute
            self.wsgi = AccessLog(app, self.log.access_log)
