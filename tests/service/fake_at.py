"""A scriptable stand-in for AT's ``/call`` endpoint on a real loopback socket.

The service talks to it through the official SDK exactly as it would to AT. It answers what
AT answers (recorded shapes from at-voice-api.md) and can be told to refuse, fail, stall or
answer garbage, which the simulator is not meant to do.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


@dataclass
class ScriptedAnswer:
    """What the fake answers to the next ``/call``."""

    status: str = "200 OK"
    content_type: str = "application/json"
    body: str | None = None
    entry_status: str = "Queued"
    delay_seconds: float = 0.0
    body_encoding: str = "utf-8"


@dataclass
class FakeAT:
    """The running fake: its URL, the requests it received, and the next answer to give."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: ScriptedAnswer = field(default_factory=ScriptedAnswer)

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        self.received.append(
            {"path": environ["PATH_INFO"], "apiKey": environ.get("HTTP_APIKEY"), "form": form}
        )
        answer = self.answer
        if answer.delay_seconds:
            time.sleep(answer.delay_seconds)
        body = answer.body
        if body is None:
            entries = [
                {
                    "phoneNumber": number,
                    "status": answer.entry_status,
                    "sessionId": "ATVId_" + secrets.token_hex(16)
                    if answer.entry_status == "Queued"
                    else "None",
                }
                for number in form.get("to", "").split(",")
            ]
            body = json.dumps({"entries": entries, "errorMessage": "None"})
        start_response(answer.status, [("Content-Type", answer.content_type)])
        return [body.encode(answer.body_encoding)]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        threading.Thread(target=self._handle, args=(request, client_address), daemon=True).start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


def run_fake_at() -> Iterator[FakeAT]:
    """Start the fake on a free loopback port; stop it when the generator closes."""
    fake = FakeAT(url="")
    server = make_server(
        "127.0.0.1", 0, fake.app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        if thread.is_alive():  # not at interpreter exit, when daemon threads are gone
            server.shutdown()
        server.server_close()
