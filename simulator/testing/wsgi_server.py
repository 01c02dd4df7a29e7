"""Serve a WSGI or ASGI app on a loopback socket in a background thread, for the simulator to
call.

The simulator reaches apps over HTTP, as AT does. In tests, an app built in-process (a Falcon,
Flask or Django WSGI app; a Falcon, Starlette or FastAPI ASGI app, like this kit's service) is
served with :func:`serve_wsgi_app` or :func:`serve_asgi_app` and its URL given to the
simulator's AT number (``at_simulator.set_number(..., callback_url=url + "/voice")``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import uvicorn

from at_voice_kit.simulator.serving.server import bind_socket, url_of, uvicorn_config

STOP_TIMEOUT_SECONDS = 10.0
START_TIMEOUT_SECONDS = 10.0


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request: calls in flight at once must not wait for each other."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr (test output stays readable)."""


@contextmanager
def serve_wsgi_app(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``http://127.0.0.1:PORT``)."""
    server = make_server(
        host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="wsgi-app", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def serve_asgi_app(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the ASGI ``app`` with uvicorn until the block ends; yields its base URL."""
    sock = bind_socket(host, port)
    server = uvicorn.Server(uvicorn_config(app, log_level="warning", access_log=False))
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="asgi-app", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        if not server.started:
            raise RuntimeError("the app did not start serving in time")
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_SECONDS)
        sock.close()
