"""The real thing, end to end: the service under gunicorn (menu flow, SQLite) placing calls
through ``atsim serve`` (a real process, virtual time), which drives the service's webhooks
through each call. Assertions read both sides: the simulator's journal and the call history
the service stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from at_voice_kit.simulator.client.remote import SimulatorClient
from tests.e2e.processes import free_port, gunicorn_argv, running
from tests.simulator.atsim_process import atsim_serve

pytestmark = pytest.mark.e2e

AT = "+254711082000"
FIRST_AGENT = "+254722000100"  # the numbers the menu's "agent" step dials
AGENT = "+254733123456"
SECRET = "e2e-webhook-secret"
TOKEN = "e2e-api-token-0123456789"


@dataclass
class Stack:
    """The running service and simulator, and clients for both."""

    service_url: str
    simulator: SimulatorClient
    service: httpx.Client

    def invoke_call(self, phone: str) -> str:
        answer = self.service.post(f"{self.service_url}/voice/invoke-call", data={"phone": phone})
        assert answer.status_code == 200, answer.text
        entry = answer.json()["response"]["entries"][0]
        assert entry["status"] == "Queued"
        return str(entry["sessionId"])

    def stored(self, session_id: str) -> dict[str, Any]:
        answer = self.service.get(f"{self.service_url}/voice/calls/{session_id}")
        assert answer.status_code == 200, answer.text
        document: dict[str, Any] = answer.json()
        return document


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp_path: Path = tmp_path_factory.mktemp("calls-e2e")
    port = free_port()
    service_url = f"http://127.0.0.1:{port}"
    with atsim_serve("--speed", "fast", "--seed", "8") as sim:
        env = {
            "AT_USERNAME": "sandbox",
            "AT_API_KEY": "atsim-sandbox-key",
            "AT_VOICE_NUMBER": AT,
            "AT_VOICE_URL": sim.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'voice.db'}",
            "VOICE_FLOW_FILE": "menu",
            "VOICE_WEBHOOK_SECRET": SECRET,
            "VOICE_API_TOKEN": TOKEN,
            "VOICE_WORKERS": "2",
            "VOICE_THREADS": "8",
        }
        with (
            running(
                gunicorn_argv(port),
                env=env,
                url=service_url,
                ready_path="/voice/",
                log_path=tmp_path / "gunicorn.log",
            ),
            SimulatorClient(sim.url) as simulator,
            httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as service,
        ):
            simulator.set_number(
                AT,
                {
                    "callbackUrl": f"{service_url}/voice/instruct?secret={SECRET}",
                    "eventsUrl": f"{service_url}/voice/events?secret={SECRET}",
                },
            )
            yield Stack(service_url, simulator, service)


def assert_stored_as_run(stack: Stack, call: dict[str, Any], placed_by_service: bool) -> None:
    """Every webhook answered 2xx, and the service stored each one (plus its invoke-call)."""
    assert all(w["status"] == 200 for w in call["webhooks"]), call["webhooks"]
    stored = stack.stored(call["sessionId"])
    assert stored["eventCount"] == len(call["webhooks"]) + (1 if placed_by_service else 0)
    outcome = stored["outcome"]
    assert outcome["ended"] is True
    assert outcome["hangupCause"] == call["outcome"]["hangupCause"]
    assert outcome["durationInSeconds"] == call["outcome"]["durationInSeconds"]


def callbacks(call: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in call["webhooks"] if w["kind"] == "callback"]


def test_a_caller_leaves_a_message_through_the_menu(stack: Stack) -> None:
    phone = "+254722000101"
    stack.simulator.set_callee(phone, {"answer": "answered", "digits": ["1"], "speechSeconds": 5})
    call = stack.simulator.wait_for_end(stack.invoke_call(phone.lstrip("+")), 60)
    steps = callbacks(call)
    assert "<GetDigits" in steps[0]["body"] and "Press 1 to leave a message" in steps[0]["body"]
    assert steps[1]["form"]["dtmfDigits"] == "1" and "<Record" in steps[1]["body"]
    recording_url = steps[2]["form"]["recordingUrl"]
    assert "Thank you, your message has been recorded" in steps[2]["body"]
    wav = httpx.get(recording_url, timeout=10)
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    assert wav.content[:4] == b"RIFF"
    assert (steps[-1]["form"]["isActive"], steps[-1]["form"]["status"]) == ("0", "Success")
    assert_stored_as_run(stack, call, placed_by_service=True)
    events = [e["kind"] for e in stack.stored(call["sessionId"])["events"]]
    assert events[0] == "CallRequested"


def test_a_caller_is_connected_to_an_agent_by_dial(stack: Stack) -> None:
    phone = "+254722000102"
    stack.simulator.set_callee(phone, {"answer": "answered", "digits": ["2"]})
    stack.simulator.set_callee(FIRST_AGENT, {"answer": "no-answer"})
    stack.simulator.set_callee(AGENT, {"answer": "answered", "hangupAfter": 12})
    call = stack.simulator.wait_for_end(stack.invoke_call(phone), 60)
    assert "<Dial" in callbacks(call)[1]["body"]
    final = callbacks(call)[-1]["form"]
    assert final["dialDestinationNumber"] == AGENT
    assert final["dialDurationInSeconds"] == "12"
    assert final["recordingUrl"].endswith(".wav")  # the menu's Dial records the conversation
    legs = {leg["phoneNumber"]: leg["hangupCause"] for leg in call["outcome"]["legs"]}
    assert legs == {FIRST_AGENT: "LOSE_RACE", AGENT: None}
    assert_stored_as_run(stack, call, placed_by_service=True)


@pytest.mark.parametrize(
    ("answer", "causes"),
    [
        ("busy", {"USER_BUSY"}),
        ("no-answer", {"NO_ANSWER", "NO_USER_RESPONSE", "RECOVERY_ON_TIMER_EXPIRE"}),
    ],
)
def test_calls_nobody_answers(stack: Stack, answer: str, causes: set[str]) -> None:
    phone = "+254722000103" if answer == "busy" else "+254722000104"
    stack.simulator.set_callee(phone, {"answer": answer})
    call = stack.simulator.wait_for_end(stack.invoke_call(phone), 60)
    (final,) = callbacks(call)
    assert final["form"]["callSessionState"] == "NotAnswered"
    assert final["form"]["hangupCause"] in causes
    assert final["form"]["callStartTime"] == "None"
    assert_stored_as_run(stack, call, placed_by_service=True)
    stored = stack.stored(call["sessionId"])["outcome"]
    assert (stored["status"], stored["amount"]) == ("NotAnswered", "0")


def test_an_inbound_call_through_the_admin_api(stack: Stack) -> None:
    phone = "+256772000105"
    stack.simulator.set_callee(phone, {"answer": "answered", "digits": ["3", ""]})
    started = stack.simulator.dial_in(phone, AT)
    call = stack.simulator.wait_for_end(started["sessionId"], 60)
    first = callbacks(call)[0]["form"]
    assert (first["direction"], first["callerNumber"], first["destinationNumber"]) == (
        "Inbound",
        phone,
        AT,
    )
    assert "We are open Monday to Friday" in callbacks(call)[1]["body"]
    assert_stored_as_run(stack, call, placed_by_service=False)
    assert stack.stored(call["sessionId"])["outcome"]["direction"] == "Inbound"
