"""``/voice/events``: stored durably before ``OK``, redeliveries stored once, bad input refused."""

from __future__ import annotations

from dataclasses import replace

import falcon.testing
import pytest

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
from tests.service.conftest import auth

DOC_EXAMPLE = {
    "sessionId": "ATVId_abc123",
    "eventType": "SessionEnded",
    "callerNumber": "+254711XXXYYY",
    "destinationNumber": "+254700000000",
    "hangupCause": "NORMAL_CLEARING",
    "direction": "outbound",
    "callStartTime": "2025-09-29 10:30:00",
    "durationInSeconds": "45",
    "currencyCode": "KES",
    "amount": "5.00",
}


def post(client: falcon.testing.TestClient, fields: dict[str, str]) -> falcon.testing.Result:
    return client.simulate_post("/voice/events", params=None, body=_encode(fields), headers=FORM)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _encode(fields: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(fields)


def events_of(client: falcon.testing.TestClient, session_id: str) -> list[dict[str, object]]:
    result = client.simulate_get(f"/voice/calls/{session_id}")
    if result.status_code == 404:
        return []
    events: list[dict[str, object]] = result.json["events"]
    return events


def test_documented_example_is_stored_and_acknowledged(client: falcon.testing.TestClient) -> None:
    result = post(client, DOC_EXAMPLE)
    assert result.status_code == 200
    assert result.text == "OK"
    assert result.headers["content-type"].startswith("text/plain")
    (event,) = events_of(client, "ATVId_abc123")
    assert event["kind"] == "SessionEnded"
    assert event["fields"] == DOC_EXAMPLE
    outcome = client.simulate_get("/voice/calls/ATVId_abc123").json["outcome"]
    assert outcome["hangupCause"] == "NORMAL_CLEARING"
    assert outcome["durationInSeconds"] == 45
    assert outcome["amount"] == "5.00"
    assert outcome["callStartTime"] == "2025-09-29T10:30:00"


def test_redelivery_is_stored_once_and_acknowledged_again(
    client: falcon.testing.TestClient,
) -> None:
    assert post(client, DOC_EXAMPLE).text == "OK"
    assert post(client, DOC_EXAMPLE).text == "OK"
    assert len(events_of(client, "ATVId_abc123")) == 1


@pytest.mark.parametrize(
    "event_type", ["SessionStarted", "SessionTransferred", "SessionQueued", "SomethingNew"]
)
@pytest.mark.parametrize(
    "cause", ["LOSE_RACE", "RECOVERY_ON_TIMER_EXPIRE", "INVALID_NUMBER", "A_CAUSE_FROM_2030"]
)
def test_any_event_type_and_hangup_cause_is_accepted(
    client: falcon.testing.TestClient, event_type: str, cause: str
) -> None:
    result = post(client, {**DOC_EXAMPLE, "eventType": event_type, "hangupCause": cause})
    assert result.status_code == 200
    assert events_of(client, "ATVId_abc123")[0]["kind"] == event_type


@pytest.mark.parametrize("start", ["2025-09-29 10:30:00", "2025-09-29+10:30:00", "None"])
def test_call_start_time_in_every_spelling(client: falcon.testing.TestClient, start: str) -> None:
    assert post(client, {**DOC_EXAMPLE, "callStartTime": start}).status_code == 200
    outcome = client.simulate_get("/voice/calls/ATVId_abc123").json["outcome"]
    assert outcome["callStartTime"] == (None if start == "None" else "2025-09-29T10:30:00")


def test_plus_separator_as_real_at_encodes_it(client: falcon.testing.TestClient) -> None:
    """AT's real dumps decode to '2023-01-18+20:04:52': on the wire the '+' is %2B."""
    body = "sessionId=ATVId_plus&callStartTime=2023-01-18%2B20%3A04%3A52&durationInSeconds=3"
    result = client.simulate_post("/voice/events", body=body, headers=FORM)
    assert result.status_code == 200
    (event,) = events_of(client, "ATVId_plus")
    assert event["fields"]["callStartTime"] == "2023-01-18+20:04:52"  # type: ignore[index]
    outcome = client.simulate_get("/voice/calls/ATVId_plus").json["outcome"]
    assert outcome["callStartTime"] == "2023-01-18T20:04:52"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("durationInSeconds", "-5"),
        ("durationInSeconds", "forty"),
        ("durationInSeconds", "99999999999"),
        ("amount", "lots"),
        ("amount", "-1"),
        ("amount", "NaN"),
        ("callStartTime", "yesterday"),
        ("currencyCode", "shillings"),
        ("direction", "sideways"),
        ("sessionId", "has spaces in it"),
        ("hangupCause", "DROP TABLE calls;"),
        ("callerNumber", "x" * 65),
        ("sessionId", "ATVId_abc123\n"),  # a pattern's "$" must not allow a final newline
        ("callerNumber", "+254711082369\n"),
        ("lastBridgeHangupCause", "NORMAL_CLEARING\n"),
    ],
)
def test_absurd_values_are_a_400_naming_the_field_and_store_nothing(
    client: falcon.testing.TestClient, field: str, value: str
) -> None:
    result = post(client, {**DOC_EXAMPLE, field: value})
    assert result.status_code == 400
    assert result.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in result.json["errors"]]
    assert events_of(client, DOC_EXAMPLE["sessionId"]) == []


LONGEST_ACCEPTED = {
    "sessionId": "S" * 128,
    "eventType": "E" * 64,
    "callerNumber": " " + "1" * 63,  # an unencoded '+' and 63 digits: 64 once read as '+'
    "destinationNumber": "+" + "2" * 63,
    "hangupCause": "H" * 64,
    "callSessionState": "C" * 64,
    "status": "T" * 64,
    "direction": "Outbound",
    "durationInSeconds": "999999",
    "currencyCode": "KES",
    "amount": "999999999.999999",
}


@pytest.mark.postgres
def test_the_longest_accepted_values_fit_the_columns(config: Config, postgres_url: str) -> None:
    """PostgreSQL enforces column lengths: whatever the rules accept must be storable (a
    value one character over a column answered 500)."""
    client = falcon.testing.TestClient(create_app(replace(config, database_url=postgres_url)))
    assert post(client, LONGEST_ACCEPTED).text == "OK"
    outcome = client.simulate_get(f"/voice/calls/{'S' * 128}").json["outcome"]
    assert outcome["callerNumber"] == "+" + "1" * 63
    over = client.simulate_post(
        "/voice/events",
        body=f"sessionId=ATVId_over&callerNumber=+{'1' * 64}",  # '+' unencoded: 65 once read
        headers=FORM,
    )
    assert over.status_code == 400
    assert over.json["errors"][0]["field"] == "callerNumber"


def test_missing_session_id_is_a_400(client: falcon.testing.TestClient) -> None:
    fields = {k: v for k, v in DOC_EXAMPLE.items() if k != "sessionId"}
    result = post(client, fields)
    assert result.status_code == 400
    assert result.json["errors"] == [{"field": "sessionId", "rule": "is required"}]


def test_only_session_id_is_required(client: falcon.testing.TestClient) -> None:
    assert post(client, {"sessionId": "ATVId_minimal"}).text == "OK"
    assert events_of(client, "ATVId_minimal")[0]["kind"] == "Notification"
    assert post(client, {"sessionId": "ATVId_empty", "eventType": ""}).text == "OK"
    assert events_of(client, "ATVId_empty")[0]["kind"] == "Notification"


def test_undocumented_fields_are_kept(client: falcon.testing.TestClient) -> None:
    fields = {**DOC_EXAMPLE, "lastBridgeHangupCause": "NORMAL_CLEARING"}
    assert post(client, fields).text == "OK"
    assert events_of(client, "ATVId_abc123")[0]["fields"] == fields


def test_field_name_with_a_trailing_newline_is_a_400(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(
        "/voice/events", body="sessionId=ATVId_abc123&newField%0A=x", headers=FORM
    )
    assert result.status_code == 400
    assert result.json["errors"][0]["field"] == "newField\n"
    assert events_of(client, "ATVId_abc123") == []


def test_wrong_content_type_is_a_415(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(
        "/voice/events", json=DOC_EXAMPLE, headers={"Content-Type": "application/json"}
    )
    assert result.status_code == 415
    assert events_of(client, "ATVId_abc123") == []


def test_oversized_body_is_a_413(client: falcon.testing.TestClient) -> None:
    result = post(client, {**DOC_EXAMPLE, "padding": "x" * 70_000})
    assert result.status_code == 413


def test_non_utf8_and_malformed_bodies_are_a_400(client: falcon.testing.TestClient) -> None:
    for body in (
        b"sessionId=%FF%FE",
        b"sessionId=\xff\xfe",
        b"sessionId=%C3%28",
        b"=x",
        # Where any text is allowed, a byte that is not UTF-8 must not become U+FFFD.
        b"sessionId=ATVId_abc123&callerCarrierName=Safari%E9com",
        b"sessionId=ATVId_abc123&lastBridgeHangupCause=%ED%A0%80",  # a UTF-16 surrogate
        b"sessionId=ATVId_abc123&note=%F0%9F%98",  # a character cut short
    ):
        result = client.simulate_post("/voice/events", body=body, headers=FORM)
        assert result.status_code == 400, body
    assert events_of(client, "ATVId_abc123") == []


def test_utf8_text_in_any_spelling_is_kept(client: falcon.testing.TestClient) -> None:
    body = "sessionId=ATVId_abc123&callerCarrierName=Safari%C3%A9com&note=%F0%9F%98%80+%EF%BF%BD"
    assert client.simulate_post("/voice/events", body=body, headers=FORM).text == "OK"
    fields = events_of(client, "ATVId_abc123")[0]["fields"]
    assert fields == {
        "sessionId": "ATVId_abc123",
        "callerCarrierName": "Safari\u00e9com",
        "note": "\U0001f600 \ufffd",
    }


def test_repeated_field_is_a_400(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/voice/events", body="sessionId=a&sessionId=b", headers=FORM)
    assert result.status_code == 400
    assert result.json["errors"] == [{"field": "sessionId", "rule": "must be given once"}]


def test_multipart_form_is_accepted(client: falcon.testing.TestClient) -> None:
    boundary = "xXx"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in DOC_EXAMPLE.items()
    )
    result = client.simulate_post(
        "/voice/events",
        body=parts + f"--{boundary}--\r\n",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert result.status_code == 200
    assert events_of(client, "ATVId_abc123")[0]["fields"] == DOC_EXAMPLE


def multipart(*parts: bytes, boundary: bytes = b"xXx") -> tuple[bytes, dict[str, str]]:
    """A multipart body of ``parts`` (each its headers, a blank line and its data)."""
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}
    return body + b"--" + boundary + b"--\r\n", headers


@pytest.mark.parametrize(
    ("part", "rule"),
    [
        # Any codec Falcon would apply: unicode_escape turns "\ud800" into a lone surrogate,
        # which no JSON answer can carry (the call's history would answer 500 for good).
        (b"Content-Type: text/plain; charset=unicode_escape\r\n\r\n\\ud800", "text/plain in UTF-8"),
        (b"Content-Type: text/plain; charset=utf-7\r\n\r\n+2AA-", "text/plain in UTF-8"),
        (b"Content-Type: text/plain; charset=latin-1\r\n\r\ncaf\xe9", "text/plain in UTF-8"),
        (b"Content-Type: application/octet-stream\r\n\r\nATVId_x", "text/plain in UTF-8"),
        (b"\r\ncaf\xe9", "must be UTF-8 text"),
    ],
)
def test_a_part_that_is_not_utf8_text_is_a_400_naming_it(
    client: falcon.testing.TestClient, part: bytes, rule: str
) -> None:
    body, headers = multipart(
        b'Content-Disposition: form-data; name="sessionId"\r\n\r\nATVId_parts',
        b'Content-Disposition: form-data; name="note"\r\n' + part,
    )
    result = client.simulate_post("/voice/events", body=body, headers=headers)
    assert result.status_code == 400, result.text
    [error] = result.json["errors"]
    assert error["field"] == "note" and rule in error["rule"]
    assert client.simulate_get("/voice/calls/ATVId_parts").status_code == 404


def test_a_part_header_that_is_not_utf8_is_a_400(client: falcon.testing.TestClient) -> None:
    body, headers = multipart(b'Content-Disposition: form-data; name="s\xe9"\r\n\r\nx')
    result = client.simulate_post("/voice/events", body=body, headers=headers)
    assert result.status_code == 400
    assert "Content-Disposition" in result.json["detail"]


def test_a_part_may_declare_utf8_or_ascii(client: falcon.testing.TestClient) -> None:
    body, headers = multipart(
        b'Content-Disposition: form-data; name="sessionId"\r\n'
        b"Content-Type: text/plain; charset=US-ASCII\r\n\r\nATVId_charset",
        b'Content-Disposition: form-data; name="callerCarrierName"\r\n'
        b'Content-Type: Text/Plain; charset="UTF-8"\r\n\r\nSafari\xc3\xa9com',
    )
    assert client.simulate_post("/voice/events", body=body, headers=headers).text == "OK"
    [event] = events_of(client, "ATVId_charset")
    assert event["fields"]["callerCarrierName"] == "Safari\u00e9com"


@pytest.mark.parametrize("charset", ["ISO-8859-1", "utf-16", "punycode", "unicode_escape"])
def test_a_url_encoded_form_declaring_another_charset_is_a_400(
    client: falcon.testing.TestClient, charset: str
) -> None:
    """Its escapes were read as UTF-8 whatever it declared: Latin-1 text would be misread."""
    result = client.simulate_post(
        "/voice/events",
        body=_encode({**DOC_EXAMPLE, "sessionId": "ATVId_latin", "callerCarrierName": "Caf\u00e9"}),
        headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
    )
    assert result.status_code == 400, result.text
    assert "must be in UTF-8" in result.json["detail"]
    assert events_of(client, "ATVId_latin") == []


@pytest.mark.parametrize("charset", ["utf8", "ANSI_X3.4-1968", '"us-ascii"'])
def test_aliases_of_utf8_and_ascii_are_utf8(
    client: falcon.testing.TestClient, charset: str
) -> None:
    body, headers = multipart(
        b'Content-Disposition: form-data; name="sessionId"\r\n'
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\r\n\r\nATVId_alias",
    )
    assert client.simulate_post("/voice/events", body=body, headers=headers).text == "OK"
    form = client.simulate_post(
        "/voice/events",
        body=_encode({**DOC_EXAMPLE, "sessionId": "ATVId_alias"}),
        headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
    )
    assert form.text == "OK"
    assert len(events_of(client, "ATVId_alias")) == 2


def test_the_media_type_is_case_insensitive(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(
        "/voice/events",
        body=_encode(DOC_EXAMPLE),
        headers={"Content-Type": "Application/X-WWW-Form-URLEncoded; Charset=UTF-8"},
    )
    assert result.text == "OK"
    assert events_of(client, "ATVId_abc123")[0]["fields"] == DOC_EXAMPLE


def test_a_session_id_with_a_slash_has_a_history(client: falcon.testing.TestClient) -> None:
    assert post(client, {**DOC_EXAMPLE, "sessionId": "ATVId/abc"}).text == "OK"
    listed = client.simulate_get("/voice/calls").json["calls"]
    assert [call["sessionId"] for call in listed] == ["ATVId/abc"]
    history = client.simulate_get("/voice/calls/ATVId/abc")
    assert history.status_code == 200
    assert history.json["sessionId"] == "ATVId/abc"


def test_call_history_needs_the_token(secured_client: falcon.testing.TestClient) -> None:
    assert post(secured_client, DOC_EXAMPLE).text == "OK"  # AT cannot send a token
    assert secured_client.simulate_get("/voice/calls/ATVId_abc123").status_code == 401
    assert secured_client.simulate_get("/voice/calls").status_code == 401
    ok = secured_client.simulate_get("/voice/calls/ATVId_abc123", headers=auth())
    assert ok.status_code == 200
