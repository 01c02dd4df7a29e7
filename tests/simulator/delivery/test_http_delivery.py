"""The httpx delivery port against a real HTTP server on a loopback socket (no mocks)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from at_voice_kit.simulator.delivery.http_delivery import HttpxWebhookDelivery
from at_voice_kit.simulator.engine import (
    CallEngine,
    EnginePorts,
    RecordingStore,
    VirtualClock,
    WebhookRequest,
)
from at_voice_kit.simulator.engine.callee import CalleeScript
from at_voice_kit.simulator.engine.memory import InMemoryCallees, InMemoryJournal, InMemoryQueues
from at_voice_kit.simulator.engine.ports import WebhookResult
from tests.simulator.engine.harness import AT_NUMBER, USER, xml
from tests.simulator.holding_app import HoldingApp
from tests.simulator.misbehaving_apps import MisbehavingApps

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False  # never wait on a handler thread at teardown (e.g. the slow one)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class VoiceApp:
    """A tiny WSGI voice app: records what it receives, answers by path."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, list[tuple[str, str]]]] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode()
        path = environ["PATH_INFO"]
        self.received.append((path, environ.get("CONTENT_TYPE", ""), parse_qsl(body)))
        form = dict(parse_qsl(body))
        if path == "/slow":
            time.sleep(1.0)
        if path == "/error":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        if path == "/moved":
            start_response("302 Found", [("Location", "/voice")])
            return [b""]
        if path == "/huge":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"x" * 2_000_000]
        start_response("200 OK", [("Content-Type", "text/plain")])
        if form.get("isActive") == "0":
            return [b"OK"]
        if "dtmfDigits" in form:
            return [xml(f"<Say>You pressed {form['dtmfDigits']}</Say>").encode()]
        return [
            xml('<GetDigits numDigits="1" timeout="5"><Say>Press a key</Say></GetDigits>').encode()
        ]


@pytest.fixture
def voice_app() -> Iterator[tuple[VoiceApp, str]]:
    app = VoiceApp()
    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def deliver(request: WebhookRequest, **kw: Any) -> WebhookResult:
    async def main() -> WebhookResult:
        async with HttpxWebhookDelivery(**kw) as delivery:
            return await delivery.deliver(request)

    return asyncio.run(main())


def test_posts_the_fields_form_encoded_in_order(voice_app: tuple[VoiceApp, str]) -> None:
    app, base = voice_app
    fields = (("isActive", "1"), ("sessionId", "ATVId_x"), ("callerNumber", "+254711082369"),
              ("callStartTime", "2025-01-06+09:00:00"))  # fmt: skip
    result = deliver(WebhookRequest(f"{base}/voice", fields))
    assert result.ok and result.status == 200
    assert result.body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><GetDigits')
    path, content_type, received = app.received[0]
    assert (path, content_type) == ("/voice", "application/x-www-form-urlencoded")
    assert received == list(fields)  # '+' survives the round trip, order kept


def test_error_status_is_reported(voice_app: tuple[VoiceApp, str]) -> None:
    _, base = voice_app
    result = deliver(WebhookRequest(f"{base}/error", ()))
    assert (result.status, result.ok, result.body) == (500, False, "boom")
    assert result.failure() == "the app answered HTTP 500"


def test_redirects_are_not_followed(voice_app: tuple[VoiceApp, str]) -> None:
    app, base = voice_app
    result = deliver(WebhookRequest(f"{base}/moved", ()))
    assert result.status == 302 and not result.ok
    assert [path for path, _, _ in app.received] == ["/moved"]


def test_slow_app_times_out(voice_app: tuple[VoiceApp, str]) -> None:
    _, base = voice_app
    result = deliver(WebhookRequest(f"{base}/slow", ()), timeout=0.2)
    assert result.timed_out and result.status is None
    assert result.failure() is not None and result.failure().startswith(
        "the app did not answer in time"
    )


def test_unreachable_app_is_an_error_not_an_exception() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = deliver(WebhookRequest(f"http://127.0.0.1:{port}/voice", ()))
    assert result.status is None and not result.timed_out
    assert result.error is not None and "Connect" in result.error


def test_body_is_capped(voice_app: tuple[VoiceApp, str]) -> None:
    _, base = voice_app
    result = deliver(WebhookRequest(f"{base}/huge", ()), max_body_bytes=1000)
    assert result.status == 200 and len(result.body) == 1000
    assert result.too_large and not result.ok
    assert result.failure() == (
        "the app's answer is too large (the answer is over 1000 bytes (not read further))"
    )


@pytest.fixture(scope="module")
def broken_apps() -> Iterator[str]:
    with MisbehavingApps() as apps:
        yield apps.url


@pytest.mark.parametrize("path", ["/trickle-body", "/trickle-headers", "/hang"])
def test_the_timeout_is_a_deadline_for_the_whole_answer(broken_apps: str, path: str) -> None:
    # A byte every 0.2 s never trips a per-read timeout; the deadline still ends it.
    result = deliver(WebhookRequest(broken_apps + path, ()), timeout=0.6)
    assert result.timed_out and result.status is None
    assert result.error == "no answer within 0.6 s (TimeoutError)"


def test_a_huge_answer_is_refused_after_the_limit_with_a_preview(broken_apps: str) -> None:
    result = deliver(WebhookRequest(broken_apps + "/huge", ()))
    assert result.too_large and result.status == 200
    assert result.body.startswith("<Response><Say>spam</Say>") and len(result.body) == 4096


def test_a_gzip_bomb_is_refused_after_the_limit(broken_apps: str) -> None:
    result = deliver(WebhookRequest(broken_apps + "/gzip-bomb", ()), max_body_bytes=10_000)
    assert result.too_large and result.body == " " * 4096


@pytest.mark.parametrize(
    ("path", "failure"),
    [
        ("/reset", "the app could not be reached (ReadError)"),
        ("/close", "the app could not be reached (RemoteProtocolError: Server disconnected"),
        ("/truncated-body", "the app's answer could not be read (HTTP 200: RemoteProtocolError"),
        ("/not-http", "the app could not be reached (RemoteProtocolError: illegal status line"),
    ],
)
def test_broken_connections_are_reported_not_raised(
    broken_apps: str, path: str, failure: str
) -> None:
    result = deliver(WebhookRequest(broken_apps + path, ()))
    assert not result.ok and not result.timed_out
    assert (result.failure() or "").startswith(failure)


def test_a_charset_that_is_no_text_encoding_falls_back_to_utf8(broken_apps: str) -> None:
    result = deliver(WebhookRequest(broken_apps + "/bogus-charset", ()))
    assert result.ok and result.body.startswith("<?xml")


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout must be a positive"):
        HttpxWebhookDelivery(timeout=0)
    with pytest.raises(ValueError, match="max_concurrent must be at least 1"):
        HttpxWebhookDelivery(max_concurrent=0)


def test_webhooks_over_the_bound_wait_and_their_deadline_starts_with_their_slot() -> None:
    async def main(app: HoldingApp) -> tuple[WebhookResult, WebhookResult, int]:
        async with HttpxWebhookDelivery(timeout=0.5, max_concurrent=1) as delivery:
            hanging = asyncio.create_task(delivery.deliver(WebhookRequest(app.url + "/hang", ())))
            waiting = asyncio.create_task(
                delivery.deliver(WebhookRequest(app.url + "/say", (("isActive", "1"),)))
            )
            while not app.by_path["/hang"]:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            said_while_hanging = app.by_path["/say"]  # the one slot is taken: not sent yet
            return await hanging, await waiting, said_while_hanging

    with HoldingApp() as app:
        hung, said, said_while_hanging = asyncio.run(main(app))
    assert hung.timed_out and said_while_hanging == 0
    # It waited for the slot as long as its own timeout, and still got its answer.
    assert said.ok and "Goodbye" in said.body


def run_http_call(base: str) -> tuple[list[bytes], list[str]]:
    journal = InMemoryJournal()

    async def main() -> None:
        async with HttpxWebhookDelivery() as delivery:
            callees = InMemoryCallees(
                {USER: CalleeScript.from_json({"answer": "answered", "digits": ["7"]})}
            )
            ports = EnginePorts(delivery, journal, InMemoryQueues(), callees, RecordingStore())
            engine = CallEngine(ports, clock=VirtualClock(), seed=11)
            await engine.place_call(
                USER, AT_NUMBER, f"{base}/voice", events_url=f"{base}/events"
            ).result()

    asyncio.run(main())
    return [e.request.body() for _, e in journal.entries], [
        e.sent_at.isoformat() for _, e in journal.entries
    ]


def test_a_whole_call_over_real_http_is_deterministic(voice_app: tuple[VoiceApp, str]) -> None:
    app, base = voice_app
    bodies_1, times_1 = run_http_call(base)
    bodies_2, times_2 = run_http_call(base)
    assert sorted(zip(times_1, bodies_1, strict=True)) == sorted(
        zip(times_2, bodies_2, strict=True)
    )
    callbacks = [dict(fields) for path, _, fields in app.received if path == "/voice"]
    assert [c["isActive"] for c in callbacks] == ["1", "1", "0"] * 2
    assert callbacks[1]["dtmfDigits"] == "7"
    assert {dict(f)["eventType"] for p, _, f in app.received if p == "/events"} == {
        "SessionStarted", "SessionRinging", "SessionAnswered", "SessionEnded",
    }  # fmt: skip


def test_an_unexpected_fault_is_logged_without_the_urls_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a transport fault nobody foresaw")

    async def run() -> WebhookResult:
        client = httpx.AsyncClient(transport=httpx.MockTransport(fail))
        async with client, HttpxWebhookDelivery(client, timeout=5) as delivery:
            url = "http://127.0.0.1:9/voice?secret=s3cret-webhook-value&lang=sw"
            return await delivery.deliver(WebhookRequest(url, (("isActive", "1"),)))

    with caplog.at_level(logging.WARNING, logger="at_voice_kit.simulator.delivery.http_delivery"):
        result = asyncio.run(run())
    assert result.status is None and result.error is not None
    assert "http://127.0.0.1:9/voice?secret=***&lang=***" in caplog.text
    assert "s3cret-webhook-value" not in caplog.text
