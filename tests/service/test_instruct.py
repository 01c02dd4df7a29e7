"""``/voice/instruct``: every kind of request AT sends, answered with valid ActionXML."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import falcon.testing
import pytest
import yaml

from at_voice_kit.contracts.actionxml import GetDigits, Say, parse
from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
from at_voice_kit.service.resources.instruct import HOST_CACHE_SIZE, is_host

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BASE = {
    "sessionId": "ATVId_abc123",
    "callerNumber": "+254711XXXYYY",
    "destinationNumber": "+254700000000",
}
FULL_FIRST = {
    **BASE,
    "isActive": "1",
    "direction": "Outbound",
    "callerCountryCode": "254",
    "callerCarrierName": "Safaricom",
    "callStartTime": "2025-09-29+10:30:00",
}
WELCOME = "Welcome to the service. This is a demo voice application. Goodbye."


def post(
    client: falcon.testing.TestClient, fields: dict[str, str], query: str = ""
) -> falcon.testing.Result:
    return client.simulate_post(
        "/voice/instruct", body=urlencode(fields), headers=FORM, query_string=query
    )


def test_documented_example_answers_the_welcome_message(
    client: falcon.testing.TestClient,
) -> None:
    result = post(client, BASE)
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/plain")
    assert result.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    parsed = parse(result.text)
    assert parsed.ok, parsed.problems
    assert parsed.response is not None
    assert parsed.response.actions == (Say(WELCOME),)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"dtmfDigits": "1"},
        {"dtmfDigits": ""},
        {"recordingUrl": "https://voice.example/rec/1.wav"},
        {"recordingUrl": ""},
        {"clientRequestId": "req-42", "unknownNewField": "v"},
    ],
)
def test_every_live_request_kind_is_answered_and_stored(
    client: falcon.testing.TestClient, extra: dict[str, str]
) -> None:
    result = post(client, {**FULL_FIRST, **extra})
    assert result.status_code == 200
    assert parse(result.text).ok
    history = client.simulate_get("/voice/calls/ATVId_abc123").json
    assert history["events"][0]["fields"] == {**FULL_FIRST, **extra}
    assert history["outcome"]["status"] == "InProgress"
    assert history["outcome"]["ended"] is False


def test_final_notification_is_stored_and_answered_empty(
    client: falcon.testing.TestClient,
) -> None:
    final = {
        "callSessionState": "NotAnswered",
        "hangupCause": "USER_BUSY",
        "direction": "Outbound",
        "callerCountryCode": "254",
        "durationInSeconds": "0",
        "amount": "0",
        "callerNumber": "+254705336634",
        "destinationNumber": "+254711082369",
        "status": "NotAnswered",
        "sessionId": "ATVId_b1782591735cb0a658b2c0da6cdb2abf",
        "callStartTime": "None",
        "isActive": "0",
        "currencyCode": "KES",
    }
    result = post(client, final)
    assert result.status_code == 200
    assert result.text == ""
    assert post(client, final).status_code == 200  # a redelivery
    history = client.simulate_get(f"/voice/calls/{final['sessionId']}").json
    assert [e["kind"] for e in history["events"]] == ["CallbackFinal"]
    assert history["outcome"] == {
        "status": "NotAnswered",
        "ended": True,
        "direction": "Outbound",
        "callerNumber": "+254705336634",
        "destinationNumber": "+254711082369",
        "hangupCause": "USER_BUSY",
        "callSessionState": "NotAnswered",
        "callStartTime": None,
        "durationInSeconds": 0,
        "currencyCode": "KES",
        "amount": "0",
    }


@pytest.mark.parametrize("missing", ["sessionId", "callerNumber", "destinationNumber"])
def test_documented_required_fields(client: falcon.testing.TestClient, missing: str) -> None:
    fields = {k: v for k, v in BASE.items() if k != missing}
    result = post(client, fields)
    assert result.status_code == 400
    assert {"field": missing, "rule": "is required"} in result.json["errors"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("isActive", "2"), ("dtmfDigits", "12a"), ("recordingUrl", "file:///etc/passwd")],
)
def test_bad_values_are_a_400_and_nothing_is_stored(
    client: falcon.testing.TestClient, field: str, value: str
) -> None:
    result = post(client, {**FULL_FIRST, field: value})
    assert result.status_code == 400
    assert result.json["errors"][0]["field"] == field
    assert client.simulate_get("/voice/calls/ATVId_abc123").status_code == 404


HOSTILE_HOST = {"X-Forwarded-Host": 'evil"><Reject/><x a="', "Host": "a&b<c>"}


@pytest.fixture
def menu_client(config: Config) -> falcon.testing.TestClient:
    """The service answering from the menu flow, whose answers carry callback URLs."""
    return falcon.testing.TestClient(create_app(replace(config, flow_file="menu")))


def first_callback_url(result: falcon.testing.Result) -> str:
    """The callback URL of the GetDigits that opens the menu flow's answer."""
    parsed = parse(result.text)
    assert parsed.ok and parsed.response is not None, parsed.problems
    get_digits = parsed.response.actions[0]
    assert isinstance(get_digits, GetDigits) and get_digits.callback_url is not None
    return get_digits.callback_url


def post_callback(
    client: falcon.testing.TestClient, headers: dict[str, str]
) -> falcon.testing.Result:
    """POST the first callback with ``headers``; a ``Host`` one as the request's own Host
    header (Falcon's ASGI test client would add its own after it, and the last one counts)."""
    headers = {**FORM, **headers}
    host = headers.pop("Host", falcon.testing.helpers.DEFAULT_HOST)
    return client.simulate_post("/voice/instruct", body=urlencode(BASE), headers=headers, host=host)


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        (HOSTILE_HOST, "Host"),
        ({"Host": "voice.example.com:99999"}, "Host"),
        ({"Host": "voice.example.com:0"}, "Host"),
        ({"Host": "a..b"}, "Host"),
        ({"Host": "-"}, "Host"),
        ({"Host": "voice-.example.com"}, "Host"),
        ({"Host": ("a" * 64) + ".example.com"}, "Host"),
        ({"X-Forwarded-Proto": "<x>"}, "X-Forwarded-Proto"),
        ({"X-Forwarded-Proto": "ftp"}, "X-Forwarded-Proto"),
        ({"Forwarded": 'proto="a b"'}, "X-Forwarded-Proto"),
    ],
)
def test_hostile_forwarding_headers_are_refused_and_change_nothing(
    menu_client: falcon.testing.TestClient, headers: dict[str, str], field: str
) -> None:
    """Flow URLs are built on the request's host and scheme: what is neither is a 400."""
    result = post_callback(menu_client, headers)
    assert result.status_code == 400
    assert result.json["errors"][0]["field"] == field
    assert menu_client.simulate_get("/voice/calls/ATVId_abc123").status_code == 404


def test_host_verdicts_stay_the_same_when_cached_and_the_cache_stays_bounded() -> None:
    """The verdict on a Host header is cached: asked again, a refused one is still refused,
    and however many distinct headers clients send, the cache keeps at most its bound."""
    hosts = ["voice.example.com", "a..b", "voice.example.com:0", "127.0.0.1:5000"]
    first = [is_host(host) for host in hosts]
    for number in range(HOST_CACHE_SIZE * 2):
        assert is_host(f"h{number}.example.com")
    assert [is_host(host) for host in hosts] == first == [True, False, False, True]
    assert [is_host(host) for host in hosts] == [
        http_url_problem(f"http://{host}/") is None for host in hosts
    ]
    assert is_host.cache_info().currsize <= HOST_CACHE_SIZE


@pytest.mark.parametrize(
    "host", ["voice.example.com", "voice.example.com.:8443", "127.0.0.1:5000", "[::1]:65535"]
)
def test_host_names_and_addresses_make_flow_urls(
    menu_client: falcon.testing.TestClient, host: str
) -> None:
    result = post_callback(menu_client, {"Host": host})
    assert result.status_code == 200, result.text
    assert first_callback_url(result).startswith(f"http://{host}/voice/instruct?")


@pytest.mark.parametrize("headers", [{"X-Forwarded-Proto": "HTTPS"}, {"Forwarded": "proto=HTTPS"}])
def test_forwarded_scheme_is_used_for_flow_urls(
    menu_client: falcon.testing.TestClient, headers: dict[str, str]
) -> None:
    result = menu_client.simulate_post(
        "/voice/instruct", body=urlencode(BASE), headers={**FORM, **headers}
    )
    assert result.status_code == 200
    assert first_callback_url(result).startswith("https://")


def test_public_url_setting_ignores_the_host_header(config: Config) -> None:
    app = create_app(replace(config, flow_file="menu", public_url="https://voice.example.com/"))
    client = falcon.testing.TestClient(app)
    result = client.simulate_post(
        "/voice/instruct", body=urlencode(BASE), headers={**FORM, **HOSTILE_HOST}
    )
    assert result.status_code == 200
    assert first_callback_url(result) == "https://voice.example.com/voice/instruct?step=menu"


def test_values_placed_in_xml_are_escaped(config: Config, tmp_path: Path) -> None:
    """The operator's text, the public URL and the webhook secret all reach the XML: each
    comes back exactly from a parse, and none breaks the document."""
    text = 'Press 1 for <sales> & "support", or 2 for the owner\'s line.'
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        yaml.safe_dump(
            {
                "start": "menu",
                "steps": {
                    "menu": {"actions": [{"get_digits": {"say": text}}], "on_digits": {"1": "end"}},
                    "end": {"actions": [{"say": "Goodbye."}]},
                },
            }
        )
    )
    secret = "s\"<&>'-0123456789"
    public_url = "https://voice.example.com/a&b'c"
    app = create_app(
        replace(config, flow_file=str(flow), webhook_secret=secret, public_url=public_url)
    )
    client = falcon.testing.TestClient(app)
    result = client.simulate_post(
        "/voice/instruct",
        body=urlencode(BASE),
        headers=FORM,
        query_string=urlencode({"secret": secret}),
    )
    assert result.status_code == 200
    assert "a&b" not in result.text and "<sales>" not in result.text  # escaped on the wire
    parsed = parse(result.text)
    assert parsed.ok and parsed.response is not None, parsed.problems
    (get_digits,) = parsed.response.actions
    assert isinstance(get_digits, GetDigits)
    assert get_digits.prompt == Say(text)
    assert get_digits.callback_url == (
        f"{public_url}/voice/instruct?{urlencode({'step': 'menu', 'secret': secret})}"
    )


def test_unencoded_plus_in_numbers_is_read_as_plus(client: falcon.testing.TestClient) -> None:
    """The docs' curl sends '+254...' unencoded, which decodes to ' 254...'."""
    body = "sessionId=ATVId_abc123&callerNumber=+254711082369&destinationNumber=+254700000000"
    assert client.simulate_post("/voice/instruct", body=body, headers=FORM).status_code == 200
    call = client.simulate_get("/voice/calls/ATVId_abc123").json
    assert call["outcome"]["callerNumber"] == "+254711082369"
    assert call["events"][0]["fields"]["destinationNumber"] == "+254700000000"


def test_unknown_query_parameter_is_a_400(client: falcon.testing.TestClient) -> None:
    result = post(client, BASE, query="foo=bar")
    assert result.status_code == 400
    assert result.json["errors"][0]["field"] == "foo"
    assert client.simulate_get("/voice/calls/ATVId_abc123").status_code == 404


@pytest.mark.parametrize("step", ["menu%0A", "1menu", "me nu", "x" * 65])
def test_step_that_is_no_step_name_is_a_400(client: falcon.testing.TestClient, step: str) -> None:
    result = post(client, BASE, query=f"step={step}")
    assert result.status_code == 400
    assert result.json["errors"][0]["field"] == "step"
    assert client.simulate_get("/voice/calls/ATVId_abc123").status_code == 404


def test_wrong_method_is_a_405(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/voice/instruct").status_code == 405
