"""The app under test for the dashboard and the dev phone: a menu (press 1), a recording
finished with #, thanks; every request it received kept, recordings downloadable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

from at_voice_kit.simulator.testing.wsgi_server import serve_wsgi_app

XML = '<?xml version="1.0" encoding="UTF-8"?><Response>{}</Response>'
WELCOME = "Welcome to the dev phone test. Press 1 to leave a message."
MENU = XML.format(
    f'<GetDigits numDigits="1" timeout="20"><Say>{WELCOME}</Say></GetDigits>'
    "<Say>We did not get your choice. Goodbye.</Say>"
)
RECORD = XML.format(
    '<Record finishOnKey="#" maxLength="60" playBeep="true">'
    "<Say>Leave your message after the beep, then press hash.</Say></Record>"
)
THANKS = XML.format(
    "<Say>Thank you. Your message is saved. Hold on or hang up.</Say>"
    '<GetDigits numDigits="1" timeout="60"><Say>Press any key.</Say></GetDigits>'
)
BROKEN = XML.format('<getDigits numdigits="1"><Say>Press 1</Say></getDigits>')
"""What a buggy app answers at ``/broken``: names in the wrong case."""
SLOW_MENU = XML.format(
    '<Say>One moment please.</Say><GetDigits numDigits="1" timeout="30"><Say>Press 1</Say>'
    "</GetDigits><Say>Goodbye.</Say>"
)

StartResponse = Callable[[str, list[tuple[str, str]]], object]


class VoiceApp:
    """Answers the callback URL (``/voice``) and the events URL (``/events``)."""

    def __init__(self, menu: str = MENU) -> None:
        self.menu = menu
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        with self._lock:
            self.requests.append((environ["PATH_INFO"], form))
        start("200 OK", [("Content-Type", "text/plain")])
        if environ["PATH_INFO"] == "/events" or form.get("isActive") == "0":
            return [b"OK" if environ["PATH_INFO"] == "/events" else b""]
        if environ["PATH_INFO"] == "/broken":
            return [BROKEN.encode()]
        if "recordingUrl" in form:
            return [THANKS.encode()]
        if form.get("dtmfDigits") == "1":
            return [RECORD.encode()]
        return [self.menu.encode()]

    def callbacks(self, session_id: str | None = None) -> list[dict[str, str]]:
        """The callback requests received, oldest first (one call's, with ``session_id``)."""
        with self._lock:
            return [
                form for path, form in self.requests
                if path == "/voice" and session_id in (None, form.get("sessionId"))
            ]  # fmt: skip

    def wait_for(
        self, found: Callable[[list[dict[str, str]]], bool], timeout: float = 120.0
    ) -> list[dict[str, str]]:
        """The callbacks once ``found`` says they hold what a test waits for."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            callbacks = self.callbacks()
            if found(callbacks):
                return callbacks
            time.sleep(0.05)
        raise AssertionError(f"the app never received what was awaited: {self.callbacks()}")


@contextmanager
def voice_app(menu: str = MENU) -> Iterator[tuple[VoiceApp, str]]:
    """The app on a loopback port: ``(app, base URL)``."""
    app = VoiceApp(menu)
    with serve_wsgi_app(app) as url:
        yield app, url


def wired(app_url: str, *extra: str) -> list[str]:
    """``atsim serve`` flags pointing the default number at the app (a secret in the URL)."""
    return [
        "--callback-url", f"{app_url}/voice?secret=dev-phone-secret-value",
        "--events-url", f"{app_url}/events", *extra,
    ]  # fmt: skip
