"""The ``atsim_verify`` fixture as a user's project gets it: the pytest plugin loaded through
its entry point in a fresh pytest process, against an app in-process and a URL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
from at_voice_kit.simulator.verify import VerifyReport

INNER_TESTS = """
import threading
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

XML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello from the app.</Say></Response>'


def app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode()
    form = dict(parse_qsl(body))
    if environ["PATH_INFO"] == "/hooks/events":
        answer = "OK"
    elif form.get("isActive") == "0":
        answer = ""
    else:
        answer = XML
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [answer.encode()]


def broken(environ, start_response):
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
    return [b"oops"]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served():
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_in_process_app(atsim_verify):
    report = atsim_verify(app, callback_url="/hooks/voice", events_url="/hooks/events",
                          quick=True)
    assert report.ok, report.summary()
    assert report.seed == 33


def test_broken_app_is_caught(atsim_verify):
    report = atsim_verify(broken, callback_url="/hooks/voice", events=False, quick=True,
                          categories=frozenset({"outcomes"}))
    assert not report.ok
    assert "[final-notification-2xx]" in report.summary()


def test_over_http(atsim_verify, served):
    report = atsim_verify(callback_url=served + "/hooks/voice",
                          events_url=served + "/hooks/events", quick=True)
    assert report.ok, report.summary()
"""


def test_the_fixture_verifies_apps_in_process_and_over_http(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_TESTS, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--atsim-seed", "33"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "3 passed" in result.stdout, result.stdout + result.stderr


def test_the_fixture_in_this_suite_on_our_service_in_process(
    atsim_verify: Callable[..., VerifyReport], tmp_path: Path
) -> None:
    config = Config(
        at_username="testuser",
        at_api_key="test-key",
        at_voice_number="+254711082000",
        at_voice_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 'voice.db'}",
        flow_file="menu",
    )
    report = atsim_verify(create_app(config), "/voice", quick=True)
    assert report.ok, report.summary()
    assert report.seed == 1  # the fixture's default: a failure repeats exactly
    assert "crawl/inbound/2/dial-answered" in {result.id for result in report.results}
