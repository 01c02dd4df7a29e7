"""A catalogue of deliberately broken webhook apps, on one raw loopback socket server.

Each path is one way an app can fail the platform (STYLE principle 12): hang, answer too late,
close or reset the connection mid-request, answer garbage, a 50 MB body, a body or headers
trickled a byte at a time, redirect loops, error statuses. The server speaks HTTP/1.1 by hand
(raw sockets: no framework would misbehave this badly on purpose), reads each request whole
before it misbehaves, so it can record what the platform sent (the final request included),
and counts what it managed to send of a huge body. Every connection is closed after one
exchange. :meth:`MisbehavingApps.close` releases the hanging handlers, so nothing outlives a
test.
"""

from __future__ import annotations

import functools
import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

VALID_ACTIONXML = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello from a sane app.</Say></Response>'
)
HUGE_BODY_BYTES = 50 * 1024 * 1024
TRICKLE_INTERVAL_SECONDS = 0.2
ACCEPT_TIMEOUT_SECONDS = 0.2
READ_TIMEOUT_SECONDS = 30.0
MAX_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request the broken app read: its path (no query) and form fields."""

    path: str
    form: dict[str, str]


@dataclass
class _Exchange:
    """What a behaviour needs: the connection, the request, and a way to check for shutdown."""

    sock: socket.socket
    path: str
    stopping: threading.Event
    sent_bytes: Callable[[str, int], None]

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.sent_bytes(self.path, len(data))

    def answer(
        self, status: str, body: bytes, content_type: str = "text/plain", **extra: str
    ) -> None:
        headers = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in extra.items())
        self.send(
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{headers}\r\n".encode()
            + body
        )

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False if the server is stopping."""
        return not self.stopping.wait(seconds)


def _hang(exchange: _Exchange) -> None:
    exchange.stopping.wait()  # never answers; released when the server closes


def _late(exchange: _Exchange) -> None:
    if exchange.wait(6.0):  # well after the platform's timeout (the fault tests use 3 s)
        exchange.answer("200 OK", VALID_ACTIONXML, "application/xml")


def _close_without_answer(exchange: _Exchange) -> None:
    exchange.sock.close()


def _reset(exchange: _Exchange) -> None:
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    exchange.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    exchange.sock.close()


def _reset_mid_answer(exchange: _Exchange) -> None:
    exchange.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 500\r\n\r\n"
    )
    exchange.send(VALID_ACTIONXML[:40])
    _reset(exchange)


def _truncated_body(exchange: _Exchange) -> None:
    # Promises more than it sends, then closes: an incomplete answer.
    exchange.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 500\r\n\r\n"
    )
    exchange.send(VALID_ACTIONXML[:40])


def _garbage_status_line(exchange: _Exchange) -> None:
    exchange.send(b"\x00\x17\xfe not HTTP at all \xff\r\n\r\n")


def _constant(
    status: str, body: bytes, content_type: str, **extra: str
) -> Callable[[_Exchange], None]:
    def behave(exchange: _Exchange) -> None:
        exchange.answer(status, body, content_type, **extra)

    return behave


def _huge(exchange: _Exchange) -> None:
    exchange.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
        + f"Content-Length: {HUGE_BODY_BYTES}\r\nConnection: close\r\n\r\n".encode()
    )
    chunk = b"<Response>" + b"<Say>spam</Say>" * 4360
    sent = 0
    while sent < HUGE_BODY_BYTES and not exchange.stopping.is_set():
        piece = chunk[: HUGE_BODY_BYTES - sent]
        exchange.send(piece)  # raises once the platform stops reading and closes
        sent += len(piece)


@functools.cache
def _gzip_bomb_body() -> bytes:
    """~50 kB on the wire, 50 MB unpacked; compressed once (it takes a CPU-second or so,
    which the app must not spend inside the platform's timeout)."""
    return gzip.compress(b" " * HUGE_BODY_BYTES, compresslevel=9)


def _gzip_bomb(exchange: _Exchange) -> None:
    exchange.answer("200 OK", _gzip_bomb_body(), "application/xml", Content_Encoding="gzip")


def _trickle_body(exchange: _Exchange) -> None:
    # Every byte arrives well within any per-read timeout; the whole never does.
    exchange.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 100000\r\n\r\n"
    )
    while exchange.wait(TRICKLE_INTERVAL_SECONDS):
        exchange.send(b" ")


def _trickle_headers(exchange: _Exchange) -> None:
    exchange.send(b"HTTP/1.1 200 OK\r\n")
    while exchange.wait(TRICKLE_INTERVAL_SECONDS):
        exchange.send(b"X-Slow: 1\r\n")


def _redirect_loop(exchange: _Exchange) -> None:
    exchange.answer("302 Found", b"", Location=exchange.path)


BEHAVIOURS: dict[str, Callable[[_Exchange], None]] = {
    "/ok": _constant("200 OK", VALID_ACTIONXML, "application/xml"),
    "/events-ok": _constant("200 OK", b"OK", "text/plain"),
    "/hang": _hang,
    "/late": _late,
    "/close": _close_without_answer,
    "/reset": _reset,
    "/reset-mid-answer": _reset_mid_answer,
    "/truncated-body": _truncated_body,
    "/not-http": _garbage_status_line,
    "/binary": _constant("200 OK", bytes(range(256)) * 16, "application/octet-stream"),
    "/not-utf8": _constant(
        "200 OK",
        "<Response><Say>caf\u00e9</Say></Response>".encode("latin-1"),
        "application/xml; charset=utf-8",
    ),
    "/bogus-charset": _constant("200 OK", VALID_ACTIONXML, "application/xml; charset=rot13"),
    # 999 KB Python's quadratic punycode decoder spent 192 s on (under the 1 MB limit).
    "/punycode": _constant(
        "200 OK", b"x" * 499_000 + b"-" + b"ba" * 250_000, "text/plain; charset=punycode"
    ),
    # Codecs that decode to lone surrogates, which no report, journal or JSON can carry.
    "/unicode-escape": _constant(
        "200 OK", b"<Response><Say>\\ud800</Say></Response>", "text/plain; charset=unicode_escape"
    ),
    "/utf-7": _constant(
        "200 OK", b"<Response><Say>+2AA-</Say></Response>", "text/plain; charset=utf-7"
    ),
    "/html": _constant("200 OK", b"<html><body><h1>Welcome</h1></body></html>", "text/html"),
    "/json": _constant("200 OK", b'{"actions": ["say"]}', "application/json"),
    "/truncated-xml": _constant("200 OK", VALID_ACTIONXML[:50], "application/xml"),
    "/huge": _huge,
    "/gzip-bomb": _gzip_bomb,
    "/trickle-body": _trickle_body,
    "/trickle-headers": _trickle_headers,
    "/redirect-loop": _redirect_loop,
    "/404": _constant("404 Not Found", b"no such page", "text/plain"),
    "/500": _constant(
        "500 Internal Server Error", b"Traceback (most recent call last):", "text/plain"
    ),
    "/503": _constant("503 Service Unavailable", b"", "text/plain", Retry_After="1"),
}
"""What the app does once it has read the request, by the last segment of its path (so
``/callback/hang`` and ``/events/hang`` hang alike but are told apart in :attr:`received`)."""


@dataclass
class MisbehavingApps:
    """The catalogue served on a loopback port; use as a context manager."""

    received: list[ReceivedRequest] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _listener: socket.socket | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        assert self._listener is not None
        host, port = self._listener.getsockname()
        return f"http://{host}:{port}"

    def __enter__(self) -> MisbehavingApps:
        _gzip_bomb_body()  # made before any webhook waits on it
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self._listener.settimeout(ACCEPT_TIMEOUT_SECONDS)
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, release every hanging handler, and wait for the threads."""
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(timeout=READ_TIMEOUT_SECONDS)
        if self._listener is not None:
            self._listener.close()

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        """The requests received on ``path``, in arrival order."""
        with self._lock:
            return [request for request in self.received if request.path == path]

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, connection)

    def _count_sent(self, path: str, size: int) -> None:
        with self._lock:
            self.sent[path] = self.sent.get(path, 0) + size

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(READ_TIMEOUT_SECONDS)
        try:
            request = _read_request(connection)
            if request is None:
                return
            with self._lock:
                self.received.append(request)
            behaviour = "/" + request.path.rsplit("/", 1)[-1]  # /callback/hang: /hang
            behave = BEHAVIOURS.get(behaviour, _constant("404 Not Found", b"", "text/plain"))
            behave(_Exchange(connection, request.path, self._stopping, self._count_sent))
        except OSError:
            pass  # the platform gave up on us: exactly what several behaviours provoke
        finally:
            connection.close()


def request_target_and_length(head: bytes) -> tuple[str, int]:
    """The request target and ``Content-Length`` (0 if absent) of an HTTP/1.1 request head."""
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return lines[0].split(" ")[1], length


def _read_request(connection: socket.socket) -> ReceivedRequest | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk or len(data) > MAX_REQUEST_BYTES:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    target, length = request_target_and_length(head)
    deadline = time.monotonic() + READ_TIMEOUT_SECONDS
    while len(body) < length and time.monotonic() < deadline:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return ReceivedRequest(urlsplit(target).path, form)
