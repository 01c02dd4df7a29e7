"""``atsim serve`` as a real process placing real calls: ``atsim call`` and ``atsim dial`` as
users run them, ``--seed`` replaying a run byte for byte, ``--webhook-timeout``, event faults
from the flags, and recordings downloaded over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from at_voice_kit.simulator.client.remote import InvalidSimulatorURL, SimulatorClient, answer_text
from at_voice_kit.simulator.testing.wsgi_server import serve_wsgi_app
from tests.simulator.atsim_process import atsim_command, atsim_serve

pytestmark = pytest.mark.e2e

USER = "+254711082369"
AT = "+254711082000"
XML = '<?xml version="1.0" encoding="UTF-8"?><Response>{}</Response>'
MENU = XML.format('<GetDigits numDigits="1" timeout="5"><Say>Press 1</Say></GetDigits>')
RECORD = XML.format('<Record finishOnKey="#" maxLength="20"><Say>Speak</Say></Record>')
THANKS = XML.format("<Say>Thank you</Say>")

StartResponse = Callable[[str, list[tuple[str, str]]], object]


class VoiceApp:
    """A small voice app: menu, record after 1, thanks; events answered OK; optional delay."""

    def __init__(self, delay: float = 0.0, status: str = "200 OK") -> None:
        self.delay = delay
        self.status = status
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        with self._lock:
            self.requests.append((environ["PATH_INFO"], form))
        if environ["PATH_INFO"] == "/events":
            start("200 OK", [("Content-Type", "text/plain")])
            return [b"OK"]
        time.sleep(self.delay)
        start(self.status, [("Content-Type", "text/plain")])
        if form.get("isActive") == "0":
            return [b""]
        if form.get("dtmfDigits") == "1":
            return [RECORD.encode()]
        if "recordingUrl" in form:
            return [THANKS.encode()]
        return [MENU.encode()]


@pytest.fixture
def voice_app() -> Iterator[tuple[VoiceApp, str]]:
    app = VoiceApp()
    with serve_wsgi_app(app) as url:
        yield app, url


def atsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*atsim_command(), *args], capture_output=True, text=True, timeout=120, check=False
    )


def wired(app_url: str, *extra: str) -> list[str]:
    return [
        "--speed", "fast", "--callback-url", f"{app_url}/voice",
        "--events-url", f"{app_url}/events", *extra,
    ]  # fmt: skip


def test_atsim_call_places_a_call_and_prints_its_timeline(
    voice_app: tuple[VoiceApp, str],
) -> None:
    app, url = voice_app
    with atsim_serve(*wired(url)) as sim:
        done = atsim("call", "--url", sim.url, "--to", USER, "--digits", "1")
        assert done.returncode == 0, done.stderr
        out = done.stdout
        assert "Completed/Success NORMAL_CLEARING" in out
        assert "callback isActive=1 dtmfDigits=1  -> 200 Record" in out
        assert "event    SessionEnded (NORMAL_CLEARING)  -> 200" in out
        # The final request of an answered call names no hangupCause: none is printed.
        final = next(line for line in out.splitlines() if "callback final: " in line)
        assert "callback final: Completed/Success, " in final and "None" not in final, final
        recording = next(line for line in out.splitlines() if "recording: " in line)
        wav = httpx.get(recording.split("recording: ")[1].strip(), timeout=10)
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
        busy = atsim("call", "--url", sim.url, "--to", "+254711082370", "--answer", "busy")
        assert busy.returncode == 0, busy.stderr
        assert "NotAnswered/NotAnswered USER_BUSY" in busy.stdout
        assert "SessionFailed (USER_BUSY)" in busy.stdout
        unsupported = atsim("call", "--url", sim.url, "--to", "+14155550100")
        assert unsupported.returncode == 1
        assert "DestinationNotSupported" in unsupported.stderr
    posted = [form for path, form in app.requests if path == "/voice"]
    assert posted[0]["callerNumber"] == USER and posted[0]["destinationNumber"] == AT


def test_atsim_call_as_another_account_says_how_to_choose_it_and_can(
    voice_app: tuple[VoiceApp, str],
) -> None:
    _, url = voice_app
    with atsim_serve(*wired(url, "--account", "shop:shop-key-0001")) as sim:
        wrong = atsim("call", "--url", sim.url, "--to", USER)
        assert wrong.returncode == 2, wrong.stdout + wrong.stderr
        assert "account 'sandbox' has no AT number" in wrong.stderr
        assert "numbers belong to: shop" in wrong.stderr
        assert "--username/--api-key" in wrong.stderr and "$ATSIM_USERNAME" in wrong.stderr
        done = atsim(
            "call", "--url", sim.url, "--to", USER, "--answer", "answered",
            "--username", "shop", "--api-key", "shop-key-0001",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Completed/Success" in done.stdout


def test_atsim_dial_simulates_an_inbound_call(voice_app: tuple[VoiceApp, str]) -> None:
    app, url = voice_app
    with atsim_serve(*wired(url)) as sim:
        done = atsim("dial", "--url", sim.url, "--from", USER, "--to", AT, "--digits", "1")
        assert done.returncode == 0, done.stderr
        assert f"Inbound  {USER} -> {AT}  Completed/Success" in done.stdout
        not_ours = atsim("dial", "--url", sim.url, "--from", USER, "--to", "+254711082099")
        assert not_ours.returncode == 2 and "does not exist" in not_ours.stderr
        quick = atsim("dial", "--url", sim.url, "--from", USER, "--to", AT, "--no-wait")
        assert quick.returncode == 0 and quick.stdout.startswith("calling ATVId_")
    first = next(form for path, form in app.requests if path == "/voice")
    assert (first["direction"], first["isActive"]) == ("Inbound", "1")


CALL_AND_DIAL = (("call", "--to", USER), ("dial", "--from", USER, "--to", AT))


def test_durations_json_cannot_carry_are_usage_errors_naming_the_option(
    voice_app: tuple[VoiceApp, str],
) -> None:
    _, url = voice_app
    refused = [
        ("--hangup-after", "inf"), ("--hangup-after", "nan"), ("--hangup-after", "86401"),
        ("--speech-seconds", "inf"), ("--speech-seconds", "nan"), ("--speech-seconds", "-1"),
    ]  # fmt: skip
    with atsim_serve(*wired(url)) as sim:
        for command in CALL_AND_DIAL:
            for option, value in refused:
                done = atsim(*command, "--url", sim.url, option, value)
                assert done.returncode == 2, done.stderr
                assert f"error: argument {option}: {value!r} must be" in done.stderr
                assert "Traceback" not in done.stderr
        # The bounds themselves are durations the simulator takes.
        done = atsim(
            "call", "--url", sim.url, "--to", USER, "--speech-seconds", "0",
            "--hangup-after", "86400", "--no-wait",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:abc", "must have a port from 1 to 65535"),
        ("http://127.0.0.1:0", "must have a port from 1 to 65535"),
        ("http://127.0.0.1:65536", "must have a port from 1 to 65535"),
        ("http://[::1", "must be a well-formed URL"),
        ("ftp://127.0.0.1", "must be an absolute http:// or https:// URL"),
    ],
)
def test_a_simulator_url_no_request_can_be_sent_to_is_a_usage_error(url: str, problem: str) -> None:
    for command in CALL_AND_DIAL:
        done = atsim(*command, "--url", url)
        assert done.returncode == 2, done.stderr
        assert f"error: argument --url: {url!r} {problem}" in done.stderr
        assert "Traceback" not in done.stderr
    with pytest.raises(InvalidSimulatorURL, match=re.escape(problem)):
        SimulatorClient(url)


def test_a_query_string_on_the_simulators_url_stays_after_the_path() -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, json={"numbers": []})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    with SimulatorClient("http://127.0.0.1:5001/?gateway=a1", client=client) as simulator:
        simulator.admin("GET", "numbers")
    assert sent == ["http://127.0.0.1:5001/_simulator/numbers?gateway=a1"]


def test_a_failing_app_makes_atsim_call_fail_and_say_why() -> None:
    failing = VoiceApp(status="500 Internal Server Error")
    with serve_wsgi_app(failing) as url, atsim_serve(*wired(url)) as sim:
        done = atsim("call", "--url", sim.url, "--to", USER, "--answer", "answered")
    assert done.returncode == 1
    assert "!! the app answered HTTP 500" in done.stdout
    assert "ended: app failure: the app answered HTTP 500" in done.stdout
    assert "the app failed" in done.stderr


def journal_of_a_seeded_run(url: str) -> list[list[tuple[str, str, dict[str, str]]]]:
    with atsim_serve(*wired(url, "--seed", "77")) as sim, SimulatorClient(sim.url) as client:
        client.set_callee(USER, {"answer": "answered", "digits": ["1"]})
        entries = client.place_call(AT, [USER, "+256772123456", "+255744123456"])["entries"]
        calls = [client.wait_for_end(e["sessionId"], 30) for e in entries]
    # Recording URLs name the simulator's own (ephemeral) port: the one thing that differs.
    # Callbacks and events go out concurrently, so the journal may interleave the two kinds
    # differently; each kind's sequence, times and payloads are what a seed fixes.
    return [
        sorted(
            ((w["kind"], w["startedAt"], _without(sim.url, w["form"])) for w in c["webhooks"]),
            key=lambda exchange: exchange[0],  # stable: each kind keeps its own order
        )
        for c in calls
    ]


def _without(base_url: str, form: dict[str, str]) -> dict[str, str]:
    return {name: value.replace(base_url, "SIM") for name, value in form.items()}


def test_the_same_seed_replays_a_run_byte_for_byte(voice_app: tuple[VoiceApp, str]) -> None:
    _, url = voice_app
    first, second = journal_of_a_seeded_run(url), journal_of_a_seeded_run(url)
    assert all(len(webhooks) >= 2 for webhooks in first)
    assert first == second


def test_the_webhook_timeout_flag_and_event_faults_flags() -> None:
    with serve_wsgi_app(VoiceApp(delay=1.5)) as url:
        flags = wired(url, "--webhook-timeout", "0.5", "--event-duplicate", "1")
        with atsim_serve(*flags) as sim, SimulatorClient(sim.url) as client:
            assert "timeout 0.5 s; events faults: delay 0, duplicate 1, reorder 0" in sim.banner
            assert client.admin("GET", "event-faults")["duplicateProbability"] == 1
            client.set_callee(USER, {"answer": "answered"})
            (entry,) = client.place_call(AT, [USER])["entries"]
            call = client.wait_for_end(entry["sessionId"], 30)
    first = next(w for w in call["webhooks"] if w["kind"] == "callback")
    assert first["timedOut"] is True and first["status"] is None
    assert first["note"].startswith("the app did not answer in time")
    assert call["outcome"]["reason"].startswith("app failure: the app did not answer in time")
    events = [w["form"]["eventType"] for w in call["webhooks"] if w["kind"] == "event"]
    assert events[:2] == ["SessionStarted", "SessionStarted"]


class RedirectingSayer:
    """Says something hostile to a terminal (an 8-bit CSI escape, which XML allows, and a
    bidi override) and redirects to its own URL, whose query carries its secret."""

    SAY = "Karibu caf\u00e9 \x9b2J\u202e"

    def __call__(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        if environ["PATH_INFO"] == "/events" or form.get("isActive") == "0":
            return [b"OK"]
        if "step=2" in environ.get("QUERY_STRING", ""):
            return [XML.format(f"<Say>{self.SAY}</Say>").encode()]
        host = environ["HTTP_HOST"]
        target = f"http://{host}/voice?step=2&amp;auth=timeline-secret-value"
        return [XML.format(f"<Redirect>{target}</Redirect>").encode()]


def test_timelines_mask_url_secrets_and_print_what_the_app_said_to_any_terminal() -> None:
    with serve_wsgi_app(RedirectingSayer()) as url:
        flags = wired(url)
        flags[flags.index("--callback-url") + 1] = f"{url}/voice?auth=timeline-secret-value"
        with atsim_serve(*flags) as sim:
            done = subprocess.run(
                [*atsim_command(), "call", "--url", sim.url, "--to", USER, "--answer", "answered"],
                capture_output=True, timeout=120, check=False,
                env={**os.environ, "PYTHONIOENCODING": "ascii"},
            )  # fmt: skip
    out = done.stdout.decode("ascii")  # an ASCII terminal: no UnicodeEncodeError either
    assert done.returncode == 0, out + done.stderr.decode()
    assert f"-> 200 Redirect {url}/voice?step=***&auth=***" in out
    assert "timeline-secret-value" not in out
    assert '200 Say "Karibu caf\\xe9 \\x9b2J\\u202e"' in out


def test_a_password_in_the_simulators_url_is_not_printed() -> None:
    url = "http://atsim:url-password-value@127.0.0.1:1"
    for command in CALL_AND_DIAL:
        done = atsim(*command, "--url", url)
        assert done.returncode == 2, done.stderr
        assert "no simulator answers at http://atsim:***@127.0.0.1:1" in done.stderr
        assert "url-password-value" not in done.stdout + done.stderr


def test_a_servers_answer_is_quoted_in_an_allowed_charset_with_controls_escaped() -> None:
    # httpx's Response.text applies whatever codec the server names (punycode is quadratic)
    # and a terminal would obey the escape sequences in it.
    response = httpx.Response(
        500,
        headers={"Content-Type": "text/plain; charset=punycode"},
        content=b"boom \x1b[2J" + b"x" * 10_000,
    )
    text = answer_text(response)
    assert text.startswith("boom \\x1b[2J")
    assert len(text) <= 4096 + 16
