"""``/voice/calls``: the stored history over HTTP, paginated and filtered."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from urllib.parse import urlencode

import falcon.testing
import pytest

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post_event(client: falcon.testing.TestClient, **fields: str) -> None:
    result = client.simulate_post("/voice/events", body=urlencode(fields), headers=FORM)
    assert result.text == "OK"


@pytest.fixture
def three_calls(client: falcon.testing.TestClient) -> falcon.testing.TestClient:
    for index, (caller, cause, duration) in enumerate(
        [
            ("+254711082369", "NORMAL_CLEARING", "30"),
            ("+256772123456", "USER_BUSY", "0"),
            ("+254711082369", "NO_ANSWER", "0"),
        ]
    ):
        post_event(
            client,
            sessionId=f"ATVId_{index}",
            eventType="SessionEnded",
            callerNumber=caller,
            hangupCause=cause,
            durationInSeconds=duration,
        )
    return client


def test_lists_newest_first_with_pagination(three_calls: falcon.testing.TestClient) -> None:
    page = three_calls.simulate_get("/voice/calls", params={"limit": "2"}).json
    assert [c["sessionId"] for c in page["calls"]] == ["ATVId_2", "ATVId_1"]
    rest = three_calls.simulate_get("/voice/calls", params={"cursor": page["next"]}).json
    assert [c["sessionId"] for c in rest["calls"]] == ["ATVId_0"]
    assert rest["next"] is None


def test_filters_by_number_with_or_without_plus(three_calls: falcon.testing.TestClient) -> None:
    for number in ("254711082369", "+254711082369"):
        calls = three_calls.simulate_get("/voice/calls", params={"number": number}).json["calls"]
        assert sorted(c["sessionId"] for c in calls) == ["ATVId_0", "ATVId_2"]


def test_filters_by_status(three_calls: falcon.testing.TestClient) -> None:
    calls = three_calls.simulate_get("/voice/calls", params={"status": "Success"}).json["calls"]
    assert [c["sessionId"] for c in calls] == ["ATVId_0"]
    assert calls[0]["outcome"]["hangupCause"] == "NORMAL_CLEARING"


@pytest.mark.parametrize("status", ["completed", "Completed", "success", "Bogus"])
def test_a_status_no_call_can_have_is_refused_naming_the_statuses(
    three_calls: falcon.testing.TestClient, status: str
) -> None:
    result = three_calls.simulate_get("/voice/calls", params={"status": status})
    assert result.status_code == 400, result.text
    (error,) = result.json["errors"]
    assert error["field"] == "status"
    assert "Success, NotAnswered, Aborted, Failed, InProgress, Requested" in error["rule"]


def test_one_call_lists_its_events_in_order(client: falcon.testing.TestClient) -> None:
    for event_type in ("SessionStarted", "SessionRinging", "SessionAnswered", "SessionEnded"):
        post_event(client, sessionId="ATVId_seq", eventType=event_type, durationInSeconds="12")
    call = client.simulate_get("/voice/calls/ATVId_seq").json
    assert [e["kind"] for e in call["events"]] == [
        "SessionStarted",
        "SessionRinging",
        "SessionAnswered",
        "SessionEnded",
    ]
    assert call["eventCount"] == 4
    assert call["outcome"]["status"] == "Success"
    assert call["outcome"]["ended"] is True


def test_unknown_call_is_a_404(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/voice/calls/ATVId_nope")
    assert result.status_code == 404
    assert result.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "\u00b2"}, "limit"),  # a digit to str.isdigit, not to int()
        ({"limit": "\u0663"}, "limit"),  # ARABIC-INDIC DIGIT THREE: not a plain number
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"sort": "asc"}, "sort"),
    ],
)
def test_bad_parameters_are_a_400(
    client: falcon.testing.TestClient, params: dict[str, str], field: str
) -> None:
    result = client.simulate_get("/voice/calls", params=params)
    assert result.status_code == 400
    assert result.json["errors"][0]["field"] == field


def cursor_of(moment: str, session_id: object) -> str:
    """A cursor in the service's format, forged."""
    return base64.urlsafe_b64encode(json.dumps([moment, session_id]).encode()).decode()


@pytest.fixture(params=["sqlite", "postgres"])
def any_database_client(
    request: pytest.FixtureRequest, config: Config
) -> falcon.testing.TestClient:
    if request.param == "sqlite":
        return falcon.testing.TestClient(create_app(config))
    url: str = request.getfixturevalue("postgres_url")
    return falcon.testing.TestClient(create_app(replace(config, database_url=url)))


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/voice/calls/ATVId_a%00b", {}, "sessionId"),  # PostgreSQL refuses NUL: was a 500
        ("/voice/calls/ATVId%20a", {}, "sessionId"),
        ("/voice/calls", {"number": "+2547\x0011"}, "number"),
        ("/voice/calls", {"status": "Success\x00"}, "status"),
        ("/voice/calls", {"status": "Success;"}, "status"),
        ("/voice/calls", {"cursor": cursor_of("2026-01-01T00:00:00", "ATVId_\x00")}, "cursor"),
        ("/voice/calls", {"cursor": cursor_of("2026-01-01T00:00:00", 42)}, "cursor"),
        # Year 1 at +23:59 is before year 1 in UTC: out of every database's range.
        ("/voice/calls", {"cursor": cursor_of("0001-01-01T00:00:00+23:59", "ATVId_a")}, "cursor"),
    ],
)
def test_history_values_no_webhook_could_store_are_a_400_on_every_database(
    any_database_client: falcon.testing.TestClient,
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    result = any_database_client.simulate_get(path, params=params)
    assert result.status_code == 400, result.text
    assert result.json["errors"][0]["field"] == field


def test_history_finds_calls_by_values_as_stored(
    any_database_client: falcon.testing.TestClient,
) -> None:
    post_event(
        any_database_client,
        sessionId="ATVId_kept",
        eventType="SessionEnded",
        callerNumber="+254711082369",
        durationInSeconds="3",
    )
    for params in ({"number": " 254711082369 "}, {"status": "Success"}, {}):
        calls = any_database_client.simulate_get("/voice/calls", params=params).json["calls"]
        assert [call["sessionId"] for call in calls] == ["ATVId_kept"], params
    assert any_database_client.simulate_get("/voice/calls/ATVId_kept").status_code == 200
