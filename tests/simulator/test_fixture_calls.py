"""The ``at_simulator`` fixture places calls that really reach an app: here the webhook
service itself, built in-process and served on a loopback socket, the way a user of the
plugin would test their own app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
from at_voice_kit.simulator.backend.calls import CallPhase
from at_voice_kit.simulator.backend.exceptions import InvalidSettings
from at_voice_kit.simulator.testing.harness import AtSimulator
from at_voice_kit.simulator.testing.wsgi_server import serve_asgi_app

USER = "+254711082369"


@pytest.fixture
def service_url(at_simulator: AtSimulator, tmp_path: Path) -> Iterator[str]:
    """The service (menu flow, SQLite) on a loopback port, wired to the fixture's number."""
    assert at_simulator.phone_number is not None
    config = Config(
        at_username=at_simulator.username,
        at_api_key=at_simulator.api_key,
        at_voice_number=at_simulator.phone_number,
        at_voice_url=at_simulator.url,
        database_url=f"sqlite:///{tmp_path / 'voice.db'}",
        flow_file="menu",
    )
    with serve_asgi_app(create_app(config)) as url:
        at_simulator.set_number(
            at_simulator.phone_number,
            callback_url=f"{url}/voice/instruct",
            events_url=f"{url}/voice/events",
        )
        yield url


def stored(service_url: str, session_id: str) -> dict[str, object]:
    answer = httpx.get(f"{service_url}/voice/calls/{session_id}", timeout=10)
    assert answer.status_code == 200, answer.text
    document: dict[str, object] = answer.json()
    return document


def test_a_call_placed_by_the_app_reaches_it_and_is_recorded(
    at_simulator: AtSimulator, service_url: str
) -> None:
    at_simulator.set_callee(USER, digits=["1"], speech_seconds=6)
    placed = httpx.post(f"{service_url}/voice/invoke-call", data={"phone": USER}, timeout=10)
    session_id = placed.json()["response"]["entries"][0]["sessionId"]
    call = at_simulator.wait_for_call(session_id)
    assert call.phase is CallPhase.ENDED and call.record is not None
    assert call.record.ending.cause.value == "NORMAL_CLEARING"
    forms = [w.request.form() for w in at_simulator.webhooks(session_id)]
    callbacks = [f for f in forms if "eventType" not in f]
    assert [f.get("dtmfDigits") for f in callbacks[:2]] == [None, "1"]
    recording = httpx.get(callbacks[2]["recordingUrl"], timeout=10)
    assert recording.status_code == 200 and recording.content[:4] == b"RIFF"
    history = stored(service_url, session_id)
    assert history["eventCount"] == len(forms) + 1  # every webhook, plus the invoke-call
    assert history["outcome"]["hangupCause"] == "NORMAL_CLEARING"  # type: ignore[index]


def test_an_inbound_call_through_the_fixture(at_simulator: AtSimulator, service_url: str) -> None:
    at_simulator.set_callee(USER, digits=["3", ""])
    call = at_simulator.wait_for_call(at_simulator.dial_in(USER).session_id)
    assert call.record is not None and call.record.direction.value == "Inbound"
    history = stored(service_url, call.session_id)
    assert history["outcome"]["direction"] == "Inbound"  # type: ignore[index]
    assert history["eventCount"] == len(at_simulator.webhooks(call.session_id))


def test_set_callee_takes_an_exact_hangup_cause(
    at_simulator: AtSimulator, service_url: str
) -> None:
    at_simulator.set_callee(USER, hangup_cause="NO_USER_RESPONSE")  # answer: no-answer
    placed = httpx.post(f"{service_url}/voice/invoke-call", data={"phone": USER}, timeout=10)
    session_id = placed.json()["response"]["entries"][0]["sessionId"]
    call = at_simulator.wait_for_call(session_id)
    assert call.record is not None
    assert call.record.ending.cause.value == "NO_USER_RESPONSE"
    assert stored(service_url, session_id)["outcome"]["hangupCause"] == "NO_USER_RESPONSE"  # type: ignore[index]
    with pytest.raises(InvalidSettings) as caught:
        at_simulator.set_callee(USER, answer="busy", hangup_cause="NO_ANSWER")
    assert [error.field for error in caught.value.errors] == ["hangupCause"]
