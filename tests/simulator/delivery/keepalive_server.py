"""An HTTP/1.1 server on a loopback socket that keeps connections alive and misbehaves on
purpose, request by request, to tell a stale connection from a request the app received.

Each connection follows ``script(n)`` for its ``n``-th request (from 0):

* ``"200"`` / ``"500"``: read the request, keep it, answer, keep the connection open;
* ``"drop-unread"``: wait for the request's first bytes, then close without reading them (the
  kernel resets the connection): the app never saw it, as when a server closes a kept-alive
  connection just as a request arrives;
* ``"mid-body"``: read and keep the request, send the status line, headers and part of the
  body, then close: the app got the request and began answering;
* ``"close"``: read and keep the request, then close without a byte of answer;
* ``"hang"``: read and keep the request, never answer (until the server stops).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType
from urllib.parse import parse_qsl

Script = Callable[[int], str]


class KeepAliveServer:
    """``with KeepAliveServer(script) as server``: serves on ``server.url``; ``received``
    holds every request the app read (its form), ``connections`` counts connections."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.received: list[dict[str, str]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> KeepAliveServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=10)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(30)
        try:
            number = 0
            while not self._stop.is_set():
                if not self._answer(connection, self.script(number)):
                    return
                number += 1
        except OSError:
            pass
        finally:
            connection.close()

    def _answer(self, connection: socket.socket, action: str) -> bool:
        """Handle one request as ``action`` says; False once the connection is done."""
        if action == "drop-unread":
            if connection.recv(1, socket.MSG_PEEK):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        form = _read_request(connection)
        if form is None:
            return False
        with self._lock:
            self.received.append(form)
        if action in ("200", "500"):
            reason = "OK" if action == "200" else "Internal Server Error"
            connection.sendall(_response(f"{action} {reason}", b"<Response/>"))
            return True
        if action == "mid-body":
            connection.sendall(_response("200 OK", b"<Response><Say>Hello")[:-4])
        if action == "hang":
            self._stop.wait(30)
        return False


def _read_request(connection: socket.socket) -> dict[str, str] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        body += chunk
    return dict(parse_qsl(body.decode()))


def _response(status: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body
