"""The dashboard over HTTP, against a real ``atsim serve``: the page ships with the package
and is open, its data is guarded like the admin API, the live feed pushes every call as it
happens with secrets masked, and the dev phone's endpoints refuse what is wrong."""

from __future__ import annotations

import io
import queue
import re
import signal
import threading
import time
import wave
from collections.abc import Iterator
from typing import Any

import africastalking
import httpx
import pytest

from at_voice_kit.simulator.client.feed import StreamEvent
from at_voice_kit.simulator.client.remote import SimulatorClient
from at_voice_kit.simulator.serving.dashboard.page import load_assets
from at_voice_kit.simulator.testing.sdk import sdk_pointed_at
from tests.simulator.atsim_process import atsim_serve
from tests.simulator.dashboard.voice_app import voice_app, wired

pytestmark = pytest.mark.e2e

AT_NUMBER = "+254711082000"
PERSON = "+254722000100"
SECRET = "dev-phone-secret-value"
TOKEN = "dashboard-admin-token-0123"


def collect(events: Iterator[StreamEvent], into: queue.Queue[StreamEvent]) -> threading.Thread:
    """Read a stream in a daemon thread."""

    def work() -> None:
        try:
            for event in events:
                into.put(event)
        except Exception:  # the server stopped, or the test closed the client: done
            return

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def until(
    events: queue.Queue[StreamEvent], name: str, timeout: float = 60.0, **match: Any
) -> StreamEvent:
    """The next event called ``name`` whose data holds ``match`` (the others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        event = events.get(timeout=max(deadline - time.monotonic(), 0.01))
        if event.name == name and all(event.data.get(k) == v for k, v in match.items()):
            return event


def test_the_page_and_its_assets_ship_in_the_package_and_are_open_but_no_data_is() -> None:
    with (
        atsim_serve(env={"ATSIM_ADMIN_TOKEN": TOKEN}) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as http,
    ):
        page = http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        referenced = re.findall(r'(?:src|href)="/_simulator/ui/([^"]+)"', page.text)
        assets = load_assets()
        assert referenced and set(referenced) <= set(assets)
        for name in assets:
            if name == "index.html":
                continue
            asset = http.get(f"/_simulator/ui/{name}")
            assert asset.status_code == 200, name
            assert asset.content == assets[name]
            assert "https://" not in asset.text and "http://" not in asset.text.replace(
                "http://127.0.0.1", ""
            ), f"{name} must load nothing from elsewhere"
        assert http.get("/_simulator/ui/../../voice.py").status_code == 404
        assert http.get("/_simulator/ui/nothing.js").status_code == 404
        for path in ("board", "board/numbers", "phones", "feed?follow=false",
                     f"phones/{PERSON}/events", "speech/" + "0" * 32 + ".wav"):  # fmt: skip
            refused = http.get(f"/_simulator/{path}")
            assert refused.status_code == 401, path
            assert refused.headers["content-type"] == "application/problem+json"
        authorised = http.get("/_simulator/board", headers={"Authorization": f"Bearer {TOKEN}"})
        assert authorised.status_code == 200 and authorised.json()["devPhone"] == PERSON


def test_the_feed_pushes_an_sdk_call_as_it_happens_with_secrets_masked() -> None:
    with voice_app() as (_, app_url), atsim_serve(*wired(app_url), "--speed", "fast") as sim:
        client = SimulatorClient(sim.url)
        client.set_callee("+254711082001", {"answer": "answered", "digits": ["2"]})
        position = client.feed_position()
        events: queue.Queue[StreamEvent] = queue.Queue()
        collect(client.follow_feed(position), events)
        with sdk_pointed_at(sim.url, "sandbox", "atsim-sandbox-key"):
            answer = africastalking.Voice.call(AT_NUMBER, ["+254711082001"])
        session_id = answer["entries"][0]["sessionId"]
        seen = [until(events, "hello")]
        created = until(events, "call")
        assert created.data["call"]["sessionId"] == session_id
        while True:
            event = events.get(timeout=60)
            seen.append(event)
            call = event.data.get("call")
            if call is not None and call["outcome"] is not None and call["cost"] is not None:
                break
        names = {event.name for event in seen}
        assert {"webhook", "note", "request"} <= names
        ids = [event.id for event in seen if event.id is not None]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        first_callback = next(
            e.data["webhook"]
            for e in seen
            if e.name == "webhook" and e.data["webhook"]["kind"] == "callback"
        )
        assert first_callback["url"].endswith("/voice?secret=***")
        assert first_callback["actionXml"]["ok"] is True
        assert "<GetDigits" in first_callback["actionXml"]["pretty"]
        assert SECRET not in repr(seen)
        # The same call, filtered, and ended: the stream sends what is there and ends.
        only = list(
            client._stream(
                "feed", {"after": str(position), "session": session_id, "follow": "false"}
            )
        )
        assert only[0].name == "hello"
        assert {e.data.get("sessionId") or e.data.get("call", {}).get("sessionId")
                for e in only[1:]} == {session_id}  # fmt: skip
        client.close()


def test_the_board_lists_calls_and_shows_one_with_its_answers_reviewed() -> None:
    with (
        voice_app("<Response><getDigits/></Response>") as (_, app_url),
        atsim_serve(*wired(app_url), "--speed", "fast") as sim,
        httpx.Client(base_url=sim.url, timeout=10) as http,
    ):
        http.put("/_simulator/callees/+254711082001", json={"answer": "answered"})
        with sdk_pointed_at(sim.url, "sandbox", "atsim-sandbox-key"):
            answer = africastalking.Voice.call(AT_NUMBER, ["+254711082001"])
        session_id = answer["entries"][0]["sessionId"]
        SimulatorClient(sim.url).wait_for_end(session_id, 60)
        board = http.get("/_simulator/board").json()
        assert [call["sessionId"] for call in board["calls"]] == [session_id]
        numbers = http.get("/_simulator/board/numbers").json()["numbers"]
        assert numbers[0]["callbackUrl"].endswith("/voice?secret=***")
        detail = http.get(f"/_simulator/board/calls/{session_id}").json()
        assert detail["position"] >= 1 and detail["requests"][0]["path"] == "/call"
        callback = next(w for w in detail["webhooks"] if w["kind"] == "callback")
        review = callback["actionXml"]
        assert (
            review["ok"] is False and review["pretty"] == "<Response>\n  <getDigits />\n</Response>"
        )
        assert review["problems"][0]["rule"] == "unknown-element"
        assert "GetDigits" in review["problems"][0]["message"]
        # AT skips an element it does not have and carries the call on: the problem is in
        # the timeline with its severity, and the call is no app failure.
        severity = review["problems"][0]["severity"]
        assert any(note["text"].startswith(f"{severity}: ") for note in detail["notes"]), detail
        assert not any("app failure" in note["text"] for note in detail["notes"])
        assert SECRET not in str(board) + str(detail) + str(numbers)
        assert http.get("/_simulator/board/calls/ATVId_nope").status_code == 404


def wav_bytes(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x40" * int(8000 * seconds))
    return buffer.getvalue()


def test_a_person_holding_a_number_takes_a_call_over_http_and_their_wav_is_the_recording() -> None:
    with voice_app() as (app, app_url), atsim_serve(*wired(app_url), "--speed", "fast") as sim:
        client = SimulatorClient(sim.url)
        phone: queue.Queue[StreamEvent] = queue.Queue()
        collect(client.phone_events(PERSON), phone)
        assert until(phone, "status").data["state"] == "idle"
        with sdk_pointed_at(sim.url, "sandbox", "atsim-sandbox-key"):
            answer = africastalking.Voice.call(AT_NUMBER, [PERSON])
        session_id = answer["entries"][0]["sessionId"]
        assert until(phone, "ringing").data["from"] == AT_NUMBER
        client.phone_action(PERSON, session_id, "answer")
        assert until(phone, "digits").data["numDigits"] == 1  # listening, then the prompt
        assert until(phone, "say").data["text"].startswith("Welcome")
        client.phone_action(PERSON, session_id, "key", key="1")
        until(phone, "record")
        recording = wav_bytes(1.25)
        uploaded = httpx.post(
            f"{sim.url}/_simulator/phones/{PERSON}/recording",
            params={"sessionId": session_id},
            content=recording,
            headers={"Content-Type": "audio/wav"},
            timeout=10,
        )
        assert uploaded.status_code == 204, uploaded.text
        recorded = until(phone, "recorded")
        callbacks = app.wait_for(lambda cbs: any("recordingUrl" in cb for cb in cbs))
        url = next(cb["recordingUrl"] for cb in callbacks if "recordingUrl" in cb)
        assert url == recorded.data["url"] and httpx.get(url, timeout=10).content == recording
        client.phone_action(PERSON, session_id, "hangup")
        ended = until(phone, "ended")
        assert ended.data["hangupCause"] == "NORMAL_CLEARING"
        assert until(phone, "status").data["state"] == "idle"
        call = client.wait_for_end(session_id, 60)
        assert call["outcome"]["reason"] == "the phone user hung up"
        client.close()


def test_the_phone_endpoints_refuse_what_is_wrong_and_change_nothing() -> None:
    with atsim_serve() as sim, httpx.Client(base_url=sim.url, timeout=10) as http:
        base = f"/_simulator/phones/{PERSON}"
        cases = [
            ("GET", "/_simulator/phones/12345/events", None, {}, 422),
            ("GET", f"/_simulator/phones/{AT_NUMBER}/events", None, {}, 409),
            ("POST", f"{base}/actions", {"sessionId": "ATVId_x", "action": "answer"}, {}, 409),
            ("POST", f"{base}/actions", {"sessionId": "ATVId_x", "action": "sing"}, {}, 422),
            ("POST", f"{base}/actions", "[", {}, 400),
            ("POST", f"{base}/calls", {"to": AT_NUMBER}, {}, 409),  # nobody holds it
            ("POST", f"{base}/calls", {"to": "+1"}, {}, 422),
            (
                "POST",
                f"{base}/recording?sessionId=ATVId_x",
                b"RIFF",
                {"Content-Type": "audio/wav"},
                409,
            ),
            ("POST", f"{base}/recording", b"RIFF", {"Content-Type": "audio/wav"}, 422),
            ("GET", "/_simulator/speech/" + "0" * 32 + ".wav", None, {}, 404),
            ("GET", "/_simulator/speech/..%2F..%2Fetc.wav", None, {}, 404),
            ("GET", "/_simulator/feed?after=x", None, {}, 422),
            ("GET", "/_simulator/feed?session=a%20b", None, {}, 422),
            ("GET", "/_simulator/feed?follow=maybe", None, {}, 422),
        ]
        for method, path, body, headers, status in cases:
            if isinstance(body, bytes) or body == "[":
                answer = http.request(method, path, content=body, headers=headers)
            else:
                answer = http.request(method, path, json=body, headers=headers)
            assert answer.status_code == status, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json", path
        assert http.get("/_simulator/calls").json()["calls"] == []
        assert http.get("/_simulator/phones").json()["phones"] == []


def test_atsim_serve_stops_at_once_with_streams_open() -> None:
    with atsim_serve() as sim:
        client = SimulatorClient(sim.url)
        feed: queue.Queue[StreamEvent] = queue.Queue()
        phone: queue.Queue[StreamEvent] = queue.Queue()
        collect(client.follow_feed(client.feed_position()), feed)
        collect(client.phone_events(PERSON), phone)
        until(feed, "hello")
        until(phone, "status")
        started = time.monotonic()
        sim.process.send_signal(signal.SIGTERM)
        assert sim.process.wait(timeout=60) == 0
        assert time.monotonic() - started < 30  # not held by the open streams
