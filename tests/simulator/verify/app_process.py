"""A broken voice app in a process of its own, for the tests where the app must really die or
really keep verify waiting: ``python -m tests.simulator.verify.app_process NAME``.

It serves one of :data:`APPS` on a free loopback port and prints ``listening on URL``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from tests.simulator.verify.webhook_apps import IvrApp, Reply, Request

SLOW_SECONDS = 1.5
"""How late the slow app answers: past the 1 s timeout its tests give verify."""


class CrashesOnKey3(IvrApp):
    """Dies (the whole process) when the caller presses 3: a crash, as a segfault or an
    out-of-memory kill would end it."""

    def choice(self, request: Request, digits: str) -> Reply:
        if digits == "3":
            os._exit(1)
        return super().choice(request, digits)


class AnswersTooLate(IvrApp):
    """Answers every request, callbacks and events, after :data:`SLOW_SECONDS`."""

    def route(self, request: Request) -> Reply:
        time.sleep(SLOW_SECONDS)
        return super().route(request)


APPS: dict[str, type[IvrApp]] = {"crashes-on-key-3": CrashesOnKey3, "too-late": AnswersTooLate}


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    server = make_server(
        "127.0.0.1", 0, APPS[sys.argv[1]](), server_class=_Server, handler_class=_QuietHandler
    )
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


@contextmanager
def app_process(name: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run the app ``name`` in a process; yields it and its base URL; kills it at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.simulator.verify.app_process", name],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on "), line
        yield process, line.removeprefix("listening on ").strip()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    main()
