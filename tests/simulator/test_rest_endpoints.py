"""``/queueStatus``, ``/mediaUpload``, ``/callTransfer``, and how the REST surface answers
what AT would refuse: wrong methods, unknown paths, odd bodies. Everything is journaled."""

from __future__ import annotations

import json

import pytest

from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.backend.calls import Call, CallLeg, CallPhase
from at_voice_kit.simulator.backend.changes import AccountChanges
from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_AT_NUMBER,
    DEFAULT_USERNAME,
    SimulatorConfig,
)
from tests.simulator.simulator_client import KE_NUMBERS, InProcessSimulator

MEDIA_CREATED = "The request has been fulfilled and resulted in a new resource being created."


def queue_status(sim: InProcessSimulator, numbers: str) -> dict[str, object]:
    result = sim.post("/queueStatus", {"username": DEFAULT_USERNAME, "phoneNumbers": numbers})
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "application/json"
    document: dict[str, object] = json.loads(result.text)
    return document


def test_queue_status_reports_the_unnamed_queue_of_a_number_with_none() -> None:
    sim = InProcessSimulator()
    assert queue_status(sim, DEFAULT_AT_NUMBER) == {
        "entries": [{"phoneNumber": DEFAULT_AT_NUMBER, "queueName": "", "numCalls": 0}],
        "errorMessage": "None",
        "status": "Success",
    }


def test_queue_status_counts_what_the_engine_enqueued() -> None:
    sim = InProcessSimulator()
    queues = sim.backend.queues
    queues.enqueue(DEFAULT_AT_NUMBER, "support", "ATVId_" + "1" * 32)
    queues.enqueue(DEFAULT_AT_NUMBER, "support", "ATVId_" + "2" * 32)
    queues.enqueue(DEFAULT_AT_NUMBER, "", "ATVId_" + "3" * 32)
    assert queue_status(sim, DEFAULT_AT_NUMBER)["entries"] == [
        {"phoneNumber": DEFAULT_AT_NUMBER, "queueName": "", "numCalls": 1},
        {"phoneNumber": DEFAULT_AT_NUMBER, "queueName": "support", "numCalls": 2},
    ]
    assert queues.dequeue(DEFAULT_AT_NUMBER, "support") == "ATVId_" + "1" * 32
    assert queue_status(sim, DEFAULT_AT_NUMBER)["entries"][1]["numCalls"] == 1  # type: ignore[index]


def test_queue_status_of_a_number_not_owned_fails() -> None:
    sim = InProcessSimulator()
    assert queue_status(sim, f"{DEFAULT_AT_NUMBER},+254711082999") == {
        "entries": [],
        "errorMessage": "Invalid phoneNumbers: +254711082999",
        "status": "Failed",
    }


def test_media_upload_answers_201_plain_text_and_remembers_the_file() -> None:
    sim = InProcessSimulator()
    url = "https://cdn.example.com/audio/welcome.MP3?sig=abc"
    result = sim.post(
        "/mediaUpload", {"username": DEFAULT_USERNAME, "phoneNumber": DEFAULT_AT_NUMBER, "url": url}
    )
    assert result.status_code == 201
    assert result.headers["Content-Type"].startswith("text/plain")
    assert result.text == MEDIA_CREATED
    assert sim.backend.numbers.get(DEFAULT_AT_NUMBER).media_urls == (url,)


@pytest.mark.parametrize(
    ("phone_number", "url", "status", "text"),
    [
        (DEFAULT_AT_NUMBER, "https://example.com/a.ogg", 400, "Invalid url"),
        (DEFAULT_AT_NUMBER, "ftp://example.com/a.mp3", 400, "Invalid url"),
        ("+254711082999", "https://example.com/a.wav", 403, "is not a number of this account"),
    ],
)
def test_media_upload_refusals(phone_number: str, url: str, status: int, text: str) -> None:
    sim = InProcessSimulator()
    fields = {"username": DEFAULT_USERNAME, "phoneNumber": phone_number, "url": url}
    result = sim.post("/mediaUpload", fields)
    assert result.status_code == status
    assert text in result.text
    assert sim.backend.numbers.get(DEFAULT_AT_NUMBER).media_urls == ()


def transfer(sim: InProcessSimulator, session_id: str, **extra: str) -> dict[str, str]:
    fields = {"username": DEFAULT_USERNAME, "sessionId": session_id, "phoneNumber": KE_NUMBERS[2]}
    result = sim.post("/callTransfer", {**fields, **extra})
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "application/json"
    document: dict[str, dict[str, str]] = json.loads(result.text)
    return document["callTransferResponse"]


def queued_session(sim: InProcessSimulator) -> str:
    session_id: str = json.loads(sim.call(KE_NUMBERS[0]).text)["entries"][0]["sessionId"]
    return session_id


def test_transfer_of_an_unknown_call_is_aborted() -> None:
    sim = InProcessSimulator()
    assert transfer(sim, "ATVId_" + "0" * 32) == {
        "status": "Aborted",
        "errorMessage": "Invalid sessionId: ATVId_" + "0" * 32,
    }


def test_transfer_of_a_call_that_is_not_active_or_not_bridged_is_aborted() -> None:
    sim = InProcessSimulator()
    session_id = queued_session(sim)
    assert transfer(sim, session_id)["errorMessage"] == "Call is not active (it is queued)"
    sim.backend.calls.set_phase(session_id, CallPhase.ACTIVE)
    outcome = transfer(sim, session_id)
    assert outcome["status"] == "Aborted"
    assert outcome["errorMessage"].startswith("Call is not bridged")


def test_transfer_of_a_bridged_call_succeeds_and_reaches_the_launcher() -> None:
    sim = InProcessSimulator()
    session_id = queued_session(sim)
    calls = sim.backend.calls
    calls.set_phase(session_id, CallPhase.ACTIVE)
    other = Call(
        session_id="ATVId_" + "b" * 32,
        username=DEFAULT_USERNAME,
        direction=Direction.OUTBOUND,
        at_number=DEFAULT_AT_NUMBER,
        phone_number=KE_NUMBERS[1],
        created_at=sim.backend.now(),
        phase=CallPhase.ACTIVE,
    )
    calls.add(other)
    calls.bridge(session_id, other.session_id)
    outcome = transfer(sim, session_id, callLeg="caller", holdMusicUrl="https://example.com/h.mp3")
    assert outcome == {"status": "Success", "errorMessage": "None"}
    (request,) = calls.get(session_id).transfers
    assert (request.phone_number, request.call_leg, request.hold_music_url) == (
        KE_NUMBERS[2],
        CallLeg.CALLER,
        "https://example.com/h.mp3",
    )
    launcher_transfers = sim.backend.launcher.transfers  # type: ignore[attr-defined]
    assert [(call.session_id, req) for call, req in launcher_transfers] == [(session_id, request)]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"callLeg": "both"}, "Invalid callLeg: both (expected caller or callee)"),
        ({"phoneNumber": "12"}, "Invalid phoneNumber: 12"),
        ({"holdMusicUrl": "music"}, "Invalid holdMusicUrl: music"),
    ],
)
def test_transfer_with_bad_values_is_aborted(extra: dict[str, str], message: str) -> None:
    sim = InProcessSimulator()
    outcome = transfer(sim, queued_session(sim), **extra)
    assert outcome["status"] == "Aborted"
    assert outcome["errorMessage"].startswith(message)


def test_another_accounts_call_looks_unknown() -> None:
    sim = InProcessSimulator()
    session_id = queued_session(sim)
    sim.backend.put_account("other", AccountChanges(api_key="other-key"))
    result = sim.post(
        "/callTransfer",
        {"username": "other", "sessionId": session_id, "phoneNumber": KE_NUMBERS[2]},
        api_key="other-key",
    )
    assert json.loads(result.text)["callTransferResponse"]["errorMessage"] == (
        f"Invalid sessionId: {session_id}"
    )


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/call", "/queueStatus", "/mediaUpload", "/callTransfer"])
def test_methods_other_than_post_get_akka_https_405(method: str, path: str) -> None:
    result = InProcessSimulator().client.simulate_request(method, path)
    assert result.status_code == 405
    assert result.headers["Allow"] == "POST"
    assert result.text == "HTTP method not allowed, supported methods: POST"


def test_unknown_paths_get_akka_https_404() -> None:
    result = InProcessSimulator().client.simulate_post("/version1/call")
    assert result.status_code == 404
    assert result.headers["Content-Type"].startswith("text/plain")
    assert result.text == "The requested resource could not be found."


def test_an_unsupported_content_type_is_415() -> None:
    result = InProcessSimulator().client.simulate_post(
        "/call", body="<call/>", headers={"Content-Type": "application/xml"}
    )
    assert result.status_code == 415
    assert "application/x-www-form-urlencoded" in result.text


def test_an_oversized_body_is_413_and_creates_nothing() -> None:
    sim = InProcessSimulator(SimulatorConfig(max_body_bytes=64))
    result = sim.call(*(KE_NUMBERS * 10))
    assert result.status_code == 413
    assert sim.backend.calls.all() == ()


def test_a_body_that_is_not_utf8_is_malformed() -> None:
    result = InProcessSimulator().client.simulate_post(
        "/call",
        body=b"username=%FF%FE&from=x&to=y",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 400
    assert result.text.startswith("The request content was malformed:")


def test_every_api_request_is_journaled_with_the_key_redacted() -> None:
    sim = InProcessSimulator()
    sim.call(KE_NUMBERS[0])
    sim.post("/queueStatus", {"username": DEFAULT_USERNAME, "phoneNumbers": "x"}, api_key="bad")
    sim.client.simulate_get("/nowhere")
    sim.admin("GET", "calls")  # the admin API is not part of the journal
    first, second, third = sim.backend.journal.api_requests()
    assert (first.sequence, first.method, first.path, first.status) == (1, "POST", "/call", 200)
    assert first.headers["apikey"] == "<redacted>"
    assert first.form == {
        "username": DEFAULT_USERNAME,
        "from": DEFAULT_AT_NUMBER,
        "to": KE_NUMBERS[0],
    }
    assert first.username == DEFAULT_USERNAME
    assert first.content_type == "application/json"
    assert first.session_ids == (sim.backend.calls.all()[0].session_id,)
    assert json.loads(first.body)["entries"][0]["status"] == "Queued"
    assert first.elapsed >= 0
    assert (second.path, second.status, second.body) == (
        "/queueStatus",
        401,
        "The supplied authentication is invalid",
    )
    assert "atsim-sandbox-key" not in json.dumps(dict(second.headers))
    assert (third.method, third.path, third.status) == ("GET", "/nowhere", 404)
    assert sim.backend.journal.api_requests_for(first.session_ids[0]) == (first,)
