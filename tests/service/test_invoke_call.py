"""``/voice/invoke-call`` through the official SDK against a fake AT on a real socket."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import falcon.testing
import psycopg
import pytest

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
from tests.service.conftest import API_TOKEN, AT_NUMBER, auth
from tests.service.fake_at import FakeAT, ScriptedAnswer


def test_places_the_call_and_answers_the_documented_shape(
    client: falcon.testing.TestClient, fake_at: FakeAT
) -> None:
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 200
    assert result.json["message"] == "Call initiated to +254711082369"
    entries = result.json["response"]["entries"]
    assert entries[0]["phoneNumber"] == "+254711082369"
    assert entries[0]["status"] == "Queued"
    assert entries[0]["sessionId"].startswith("ATVId_")
    assert result.json["response"]["errorMessage"] == "None"
    (request,) = fake_at.received
    assert request["path"] == "/call"
    assert request["apiKey"] == "test-key"
    assert request["form"] == {"username": "testuser", "from": AT_NUMBER, "to": "+254711082369"}


def test_accepts_the_number_with_a_plus(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/voice/invoke-call", params={"phone": "+254711082369"})
    assert result.status_code == 200
    assert result.json["message"] == "Call initiated to +254711082369"


def test_post_with_a_form_body(client: falcon.testing.TestClient, fake_at: FakeAT) -> None:
    result = client.simulate_post(
        "/voice/invoke-call",
        body="phone=256772123456",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 200
    assert fake_at.received[0]["form"]["to"] == "+256772123456"


def test_the_call_is_recorded_in_the_history(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    session_id = result.json["response"]["entries"][0]["sessionId"]
    history = client.simulate_get(f"/voice/calls/{session_id}")
    assert history.status_code == 200
    assert [event["kind"] for event in history.json["events"]] == ["CallRequested"]
    assert history.json["outcome"]["status"] == "Requested"


def test_each_call_to_one_number_is_recorded_and_found_by_either_number(
    client: falcon.testing.TestClient,
) -> None:
    """Two calls to one number are two calls (not a redelivery of one), listed before AT
    has called back, under the called number and the AT number."""
    placed = [
        client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"}).json
        for _ in range(2)
    ]
    sessions = {answer["response"]["entries"][0]["sessionId"] for answer in placed}
    assert len(sessions) == 2
    for number in ("254711082369", AT_NUMBER):
        calls = client.simulate_get("/voice/calls", params={"number": number}).json["calls"]
        assert {call["sessionId"] for call in calls} == sessions
        for call in calls:
            assert call["outcome"]["status"] == "Requested"
            assert call["outcome"]["direction"] == "Outbound"
            assert call["outcome"]["callerNumber"] == "+254711082369"
            assert call["outcome"]["destinationNumber"] == AT_NUMBER


def test_a_queued_call_is_understood_when_ats_json_names_its_charset(
    client: falcon.testing.TestClient, fake_at: FakeAT
) -> None:
    """The SDK decodes only an exact ``application/json``; the call is queued all the same."""
    fake_at.answer = ScriptedAnswer(content_type="application/json; charset=utf-8")
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 200, result.text
    session_id = result.json["response"]["entries"][0]["sessionId"]
    assert client.simulate_get(f"/voice/calls/{session_id}").status_code == 200
    assert len(fake_at.received) == 1


def test_a_session_id_no_webhook_could_carry_is_not_recorded(
    client: falcon.testing.TestClient, fake_at: FakeAT
) -> None:
    """Stored, it would be a call whose page cursor the history refuses: paging would stop."""
    client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    fake_at.answer = ScriptedAnswer(
        body=json.dumps(
            {
                "entries": [
                    {"status": "Queued", "sessionId": "ATVId 1", "phoneNumber": "+254711082370"}
                ],
                "errorMessage": "None",
            }
        )
    )
    odd = client.simulate_get("/voice/invoke-call", params={"phone": "254711082370"})
    assert odd.status_code == 200
    assert odd.json["response"]["entries"][0]["sessionId"] == "ATVId 1"
    page = client.simulate_get("/voice/calls", params={"limit": "1"}).json
    assert [call["outcome"]["callerNumber"] for call in page["calls"]] == ["+254711082369"]
    assert page["next"] is None


@pytest.mark.postgres
def test_a_queued_call_answers_200_even_when_it_cannot_be_recorded(
    config: Config, fake_at: FakeAT, postgres_url: str
) -> None:
    """AT queued the call (it costs money): a 503 would invite a retry, a second call."""
    client = falcon.testing.TestClient(create_app(replace(config, database_url=postgres_url)))
    server, name = postgres_url.rsplit("/", 1)
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[call-overload]
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 200
    assert result.json["message"] == "Call initiated to +254711082369"
    assert len(fake_at.received) == 1
    assert client.simulate_get("/voice/").status_code == 503  # the database really is gone


def test_missing_phone_is_a_400(client: falcon.testing.TestClient, fake_at: FakeAT) -> None:
    result = client.simulate_get("/voice/invoke-call")
    assert result.status_code == 400
    assert result.headers["content-type"] == "application/problem+json"
    assert result.json["errors"] == [{"field": "phone", "rule": "is required"}]
    assert fake_at.received == []


@pytest.mark.parametrize(
    ("phone", "rule"),
    [
        ("254711XXXYYY", "digits"),
        ("999999999999", "country calling code"),
        ("2547110", "not a valid number"),
    ],
)
def test_invalid_number_is_a_400_naming_the_rule(
    client: falcon.testing.TestClient, fake_at: FakeAT, phone: str, rule: str
) -> None:
    result = client.simulate_get("/voice/invoke-call", params={"phone": phone})
    assert result.status_code == 400
    assert result.json["errors"][0]["field"] == "phone"
    assert rule in result.json["errors"][0]["rule"]
    assert fake_at.received == []


def test_unknown_or_repeated_parameters_are_a_400(client: falcon.testing.TestClient) -> None:
    unknown = client.simulate_get("/voice/invoke-call", query_string="phone=254711082369&to=1")
    assert unknown.status_code == 400
    assert unknown.json["errors"][0]["field"] == "to"
    repeated = client.simulate_get(
        "/voice/invoke-call", query_string="phone=254711082369&phone=254711082368"
    )
    assert repeated.status_code == 400
    assert repeated.json["errors"][0] == {"field": "phone", "rule": "must be given once"}


@pytest.mark.parametrize(
    "entry_status", ["InvalidPhoneNumber", "DestinationNotSupported", "InsufficientCredit"]
)
def test_at_refusing_the_entry_is_the_documented_500_with_ats_answer(
    client: falcon.testing.TestClient, fake_at: FakeAT, entry_status: str
) -> None:
    fake_at.answer = ScriptedAnswer(entry_status=entry_status)
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 500
    assert entry_status in result.json["detail"]
    assert result.json["response"]["entries"][0]["status"] == entry_status
    assert result.json["response"]["entries"][0]["sessionId"] == "None"


def test_at_error_status_is_a_500_carrying_ats_message(
    client: falcon.testing.TestClient, fake_at: FakeAT
) -> None:
    fake_at.answer = ScriptedAnswer(
        status="401 Unauthorized",
        content_type="text/plain",
        body="The supplied authentication is invalid",
    )
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 500
    assert "The supplied authentication is invalid" in result.json["detail"]
    assert result.json["response"] == "The supplied authentication is invalid"


def test_at_answering_not_json_is_a_500(client: falcon.testing.TestClient, fake_at: FakeAT) -> None:
    fake_at.answer = ScriptedAnswer(content_type="text/html", body="<html>maintenance</html>")
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 500
    assert "other than JSON" in result.json["detail"]


def test_at_answering_broken_json_is_a_500_carrying_its_answer(
    client: falcon.testing.TestClient, fake_at: FakeAT
) -> None:
    fake_at.answer = ScriptedAnswer(body="{not json")  # declared application/json
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 500
    assert "other than JSON" in result.json["detail"]
    assert result.json["response"] == "{not json"


def test_at_timing_out_is_a_500(config: Config, fake_at: FakeAT) -> None:
    client = falcon.testing.TestClient(create_app(replace(config, at_timeout_seconds=0.3)))
    fake_at.answer = ScriptedAnswer(delay_seconds=1.0)
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 500
    assert "did not answer in time" in result.json["detail"]


def test_at_unreachable_is_a_500(config: Config) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = falcon.testing.TestClient(create_app(replace(config, at_voice_url=closed)))
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 500
    assert "unreachable" in result.json["detail"]


def test_requires_the_token_when_one_is_set(
    secured_client: falcon.testing.TestClient, fake_at: FakeAT
) -> None:
    params = {"phone": "254711082369"}
    missing = secured_client.simulate_get("/voice/invoke-call", params=params)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = secured_client.simulate_get(
        "/voice/invoke-call", params=params, headers=auth("wrong-token-0123456789")
    )
    assert wrong.status_code == 401
    assert fake_at.received == []
    right = secured_client.simulate_get("/voice/invoke-call", params=params, headers=auth())
    assert right.status_code == 200
    assert API_TOKEN not in right.text


@pytest.mark.parametrize("status", ["200 OK", "500 Internal Server Error"])
def test_an_answer_in_a_quadratic_codec_is_read_at_once(
    client: falcon.testing.TestClient, fake_at: FakeAT, status: str
) -> None:
    """The SDK's ``requests`` decoded AT's text answer with any codec its charset named:
    999 KB declared ``punycode`` held the request for minutes. (A generous bound: it takes
    milliseconds now.)"""
    body = "x" * 499_000 + "-" + "ba" * 250_000
    fake_at.answer = ScriptedAnswer(status, "text/plain; charset=punycode", body)
    started = time.perf_counter()
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert time.perf_counter() - started < 10
    assert result.status_code == 500
    assert result.json["title"] == "Africa's Talking API error"


def test_an_error_answer_is_read_in_its_declared_charset(
    client: falcon.testing.TestClient, fake_at: FakeAT
) -> None:
    fake_at.answer = ScriptedAnswer(
        "401 Unauthorized",
        "text/plain; charset=UTF-16",
        "The supplied authentication is invalid",
        body_encoding="utf-16",
    )
    result = client.simulate_get("/voice/invoke-call", params={"phone": "254711082369"})
    assert result.status_code == 500
    assert "The supplied authentication is invalid" in result.json["detail"]
