"""Hostile input against a real ``atsim serve`` process, over HTTP: never a 5xx, nothing
changed by a refused request, and no call left hanging by what an app answers.

Each case here answered 500 (or left a call live for ever) before it was fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

import httpx
import pytest

from at_voice_kit.simulator.testing.wsgi_server import serve_wsgi_app
from tests.simulator.atsim_process import atsim_serve

pytestmark = pytest.mark.e2e

AT_NUMBER = "+254711082000"
PHONE_USER = "+254711082001"
KEY = {"apiKey": "atsim-sandbox-key"}
JSON = {**KEY, "Content-Type": "application/json"}
CALL_FIELDS = '"username": "sandbox", "from": "+254711082000"'

HOSTILE_REST_BODIES = [
    ("[" * 200_000, "nested too deeply"),
    ('{"to": ' * 100_000, "nested too deeply"),
    ("{" + CALL_FIELDS + ', "to": "\\ud800"}', "surrogate"),
    ("{" + CALL_FIELDS + ', "to": "+254711082001", "clientRequestId": "\\udfff"}', "surrogate"),
    ('{"username": "sandbox", "from": "\\ud800", "to": "+254711082001"}', "surrogate"),
]


@pytest.fixture(scope="module")
def atsim() -> Iterator[httpx.Client]:
    """One real simulator for the module, with an answering phone user."""
    with (
        atsim_serve("--seed", "3", "--speed", "fast") as process,
        httpx.Client(base_url=process.url, timeout=30) as client,
    ):
        callee = client.put(f"/_simulator/callees/{PHONE_USER}", json={"answer": "answered"})
        assert callee.status_code == 201, callee.text
        yield client


FORM_FIELDS = "username=sandbox&from=%2B254711082000"
HOSTILE_CHARSETS = [
    # A codec that fails with a bare UnicodeError, not UnicodeDecodeError: it answered 500.
    ("punycode", FORM_FIELDS + "&to=%2B254711082001"),
    # A codec that makes "\ud800" a lone surrogate: echoed in the entry, it answered 500.
    ("unicode_escape", FORM_FIELDS + "&to=\\ud800"),
    # The same in clientRequestId: the call was queued, but none of its events could be sent.
    ("unicode_escape", FORM_FIELDS + "&to=%2B254711082001&clientRequestId=\\udfff"),
    ("rot13", FORM_FIELDS + "&to=%2B254711082001"),  # no charset at all
]


@pytest.mark.parametrize(("charset", "body"), HOSTILE_CHARSETS)
def test_form_bodies_in_a_codec_that_is_no_charset_are_ats_400(
    atsim: httpx.Client, charset: str, body: str
) -> None:
    answer = atsim.post(
        "/call",
        content=body.encode("ascii"),
        headers={**KEY, "Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.text.startswith("The request content was malformed:\n")
    assert f"the charset {charset!r} is not supported" in answer.text
    assert atsim.get("/_simulator/calls").json()["calls"] == []
    journal = atsim.get("/_simulator/requests")
    assert journal.status_code == 200
    assert journal.json()["requests"][-1]["status"] == 400


@pytest.mark.parametrize(("body", "detail"), HOSTILE_REST_BODIES)
def test_hostile_json_bodies_on_call_are_ats_400(
    atsim: httpx.Client, body: str, detail: str
) -> None:
    answer = atsim.post("/call", content=body.encode("utf-8"), headers=JSON)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "text/plain; charset=UTF-8"
    assert answer.text.startswith("The request content was malformed:\n")
    assert detail in answer.text
    assert atsim.get("/_simulator/calls").json()["calls"] == []
    # The journal (which keeps the refused request) still serialises.
    assert atsim.get("/_simulator/requests").status_code == 200


@pytest.mark.parametrize(
    "body", ["[" * 200_000, '{"answer": "busy", "digits": ["\\ud800"]}', '{"\\udfff": 1}']
)
def test_hostile_json_bodies_on_the_admin_api_are_problems(atsim: httpx.Client, body: str) -> None:
    answer = atsim.put(f"/_simulator/callees/{PHONE_USER}", content=body, headers=JSON)
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert atsim.get(f"/_simulator/callees/{PHONE_USER}").json()["answer"] == "answered"


@pytest.mark.parametrize(
    "url", ["http://[::1/voice", "http://app:99999/voice", "http://:/voice", "http://[0]/v"]
)
def test_urls_no_client_can_use_are_refused_where_they_are_set(
    atsim: httpx.Client, url: str
) -> None:
    number = atsim.put(f"/_simulator/numbers/{AT_NUMBER}", json={"callbackUrl": url})
    assert number.status_code == 422, number.text
    media = atsim.post(
        "/mediaUpload",
        data={"username": "sandbox", "phoneNumber": AT_NUMBER, "url": f"{url}/a.mp3"},
        headers=KEY,
    )
    assert media.status_code == 400, media.text
    placed = atsim.post(
        "/call", data={"username": "sandbox", "from": AT_NUMBER, "to": PHONE_USER}, headers=KEY
    )
    assert placed.status_code == 200


def redirecting_app(target: str) -> Callable[..., list[bytes]]:
    """A WSGI app whose first answer redirects the call to ``target``."""

    def app(environ: Mapping[str, object], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        if environ["PATH_INFO"] != "/voice":
            return [b"OK"]
        return [
            b'<?xml version="1.0" encoding="UTF-8"?><Response><Redirect>'
            + target.encode()
            + b"</Redirect></Response>"
        ]

    return app


@pytest.mark.parametrize(
    ("target", "error"),
    [
        # Refused by the one URL rule (contracts/urls.py) before any client tries them.
        ("http://xn--/next", "must name a host a client can look up"),
        ("http://app:port/next", "must have a port from 1 to 65535"),
    ],
)
def test_a_redirect_to_a_url_no_client_can_use_ends_the_call(
    atsim: httpx.Client, target: str, error: str
) -> None:
    with serve_wsgi_app(redirecting_app(target)) as app_url:
        set_number = atsim.put(
            f"/_simulator/numbers/{AT_NUMBER}",
            json={"callbackUrl": f"{app_url}/voice", "eventsUrl": f"{app_url}/events"},
        )
        assert set_number.status_code == 200
        placed = atsim.post(
            "/call",
            data={"username": "sandbox", "from": AT_NUMBER, "to": PHONE_USER},
            headers=KEY,
        )
        session_id = placed.json()["entries"][0]["sessionId"]
        deadline = time.monotonic() + 30
        call = atsim.get(f"/_simulator/calls/{session_id}").json()
        while call["phase"] != "ended" and time.monotonic() < deadline:
            time.sleep(0.05)
            call = atsim.get(f"/_simulator/calls/{session_id}").json()
    # Before the fix the call's task died on the exception and the call never ended.
    assert call["phase"] == "ended"
    assert call["outcome"]["status"] == "Aborted"
    assert error in call["outcome"]["reason"]
    callbacks = [w for w in call["webhooks"] if w["kind"] == "callback"]
    assert callbacks[-1]["form"]["isActive"] == "0"
