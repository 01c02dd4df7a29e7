"""Serve a WSGI app on a loopback socket in a background thread, for the simulator to call.

The simulator reaches apps over HTTP, as AT does. In tests, an app built in-process (a Falcon,
Flask or Django WSGI app) is served with :func:`serve_wsgi_app` and its URL given to the
simulator's AT number (``at_simulator.set_number(..., callback_url=url + "/voice")``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

STOP_TIMEOUT_SECONDS = 10.0


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
