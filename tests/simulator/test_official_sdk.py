"""The official ``africastalking`` SDK (2.0.3) against the simulator, through the
``at_simulator`` fixture: only ``Voice._baseUrl`` differs from talking to AT."""

from __future__ import annotations

import re

import africastalking
import pytest
from africastalking.Service import AfricasTalkingException

from at_voice_kit.simulator.testing.harness import AtSimulator

# initialize("sandbox", ...) builds the SDK's WhatsApp service too, which warns it has no sandbox.
pytestmark = pytest.mark.filterwarnings("ignore:Sandbox is currently not available:UserWarning")

SESSION_ID = re.compile(r"^ATVId_[0-9a-f]{32}$")


def test_the_sdk_points_at_the_simulator(at_simulator: AtSimulator) -> None:
    assert africastalking.Voice._baseUrl == at_simulator.url
    assert at_simulator.url.startswith("http://127.0.0.1:")


def test_call_several_numbers_one_invalid(at_simulator: AtSimulator) -> None:
    assert at_simulator.phone_number is not None
    answer = africastalking.Voice.call(
        at_simulator.phone_number, ["+254711082001", "+2541234", "+256772123456"]
    )
    # A dict, not a string: the SDK parsed the JSON, so Content-Type was exactly application/json.
    assert isinstance(answer, dict)
    assert answer["errorMessage"] == "None"
    entries = answer["entries"]
    assert [(e["phoneNumber"], e["status"]) for e in entries] == [
        ("+254711082001", "Queued"),
        ("+2541234", "InvalidPhoneNumber"),
        ("+256772123456", "Queued"),
    ]
    assert SESSION_ID.match(entries[0]["sessionId"]) and SESSION_ID.match(entries[2]["sessionId"])
    assert entries[1]["sessionId"] == "None"
    assert [call.session_id for call in at_simulator.calls()] == [
        entries[0]["sessionId"],
        entries[2]["sessionId"],
    ]
    (request,) = at_simulator.requests("/call")
    assert request.form == {
        "username": at_simulator.username,
        "from": at_simulator.phone_number,
        "to": "+254711082001,+2541234,+256772123456",
    }
    assert request.headers["user-agent"].startswith("africastalking-python")
    assert request.headers["apikey"] == "<redacted>"


def test_fetch_queued_calls(at_simulator: AtSimulator) -> None:
    assert at_simulator.phone_number is not None
    at_simulator.backend.queues.enqueue(at_simulator.phone_number, "support", "ATVId_" + "9" * 32)
    answer = africastalking.Voice.fetch_queued_calls(at_simulator.phone_number)
    assert answer == {
        "entries": [
            {"phoneNumber": at_simulator.phone_number, "queueName": "support", "numCalls": 1}
        ],
        "errorMessage": "None",
        "status": "Success",
    }


def test_media_upload(at_simulator: AtSimulator) -> None:
    assert at_simulator.phone_number is not None
    url = "https://example.com/audio/welcome.wav"
    answer = africastalking.Voice.media_upload(at_simulator.phone_number, url)
    assert answer == "The request has been fulfilled and resulted in a new resource being created."
    assert at_simulator.backend.numbers.get(at_simulator.phone_number).media_urls == (url,)


def test_a_wrong_key_raises_africastalking_exception(at_simulator: AtSimulator) -> None:
    assert at_simulator.phone_number is not None
    africastalking.initialize(at_simulator.username, "not-the-key")
    with pytest.raises(AfricasTalkingException, match=r"^The supplied authentication is invalid$"):
        africastalking.Voice.call(at_simulator.phone_number, ["+254711082001"])
    assert at_simulator.calls() == ()
    assert at_simulator.requests()[0].status == 401


def test_an_app_that_initialises_the_sdk_itself_still_reaches_the_simulator(
    at_simulator: AtSimulator,
) -> None:
    assert at_simulator.phone_number is not None
    africastalking.initialize(at_simulator.username, at_simulator.api_key)
    assert africastalking.Voice._baseUrl == at_simulator.url
    answer = africastalking.Voice.call(at_simulator.phone_number, ["+254711082001"])
    assert answer["entries"][0]["status"] == "Queued"


def test_callees_and_balances_set_through_the_fixture(at_simulator: AtSimulator) -> None:
    assert at_simulator.phone_number is not None
    at_simulator.set_callee("+254711082001", answer="busy")
    assert at_simulator.backend.callees.script_for("+254711082001").answer.value == "busy"
    at_simulator.set_balance("2.50")
    answer = africastalking.Voice.call(at_simulator.phone_number, ["+254711082001"] * 2)
    assert [e["status"] for e in answer["entries"]] == ["Queued", "InsufficientCredit"]


def test_each_test_starts_from_a_reset_simulator(at_simulator: AtSimulator) -> None:
    # The tests above queued calls and spent credit: none of it is left.
    assert at_simulator.calls() == ()
    assert at_simulator.requests() == ()
    assert at_simulator.backend.accounts.get(at_simulator.username).balance == 10000
