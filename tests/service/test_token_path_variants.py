"""The service's API token cannot be walked around by spelling a path differently.

The simulator's admin guard once decided on the path string and ``//_simulator/...`` went
through (issue 14). The service decides on the resource the router chose
(``auth_required``), so every spelling the router accepts meets the token and every other
one is a 404: this holds it to that, for ``invoke-call`` (places calls, spends money) and the
call history, in-process here and under gunicorn in ``tests/e2e/test_token_path_variants.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import falcon.testing

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
from tests.path_variants import spellings
from tests.service.conftest import API_TOKEN, auth
from tests.service.fake_at import FakeAT

SECRET_SESSION = "ATVId_pathvariantsecret0123456789abcd"
PHONE = "254711082369"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Answer:
    """An answer, whichever way it was obtained."""

    status: int
    text: str


Send = Callable[[str, str, dict[str, str], str | None], Answer]
"""``send(method, target, headers, form_body)``."""


def protected_requests() -> list[tuple[str, str, str, str | None]]:
    """``(method, path, query, form body)`` of every request the token guards."""
    call = urlencode({"phone": PHONE})
    return [
        ("GET", "/voice/calls", "", None),
        ("GET", "/voice/calls", "limit=500", None),
        ("GET", f"/voice/calls/{SECRET_SESSION}", "", None),
        ("GET", "/voice/invoke-call", call, None),
        ("POST", "/voice/invoke-call", "", call),
    ]


def with_query(target: str, query: str) -> str:
    if not query:
        return target
    return target + ("&" if "?" in target else "?") + query


def store_a_call(send: Send) -> None:
    """A call in the history (the events URL needs no token): the data to steal."""
    fields = {"sessionId": SECRET_SESSION, "eventType": "SessionEnded", "callerNumber": "+" + PHONE}
    answer = send("POST", "/voice/events", {"Content-Type": FORM}, urlencode(fields))
    assert (answer.status, answer.text) == (200, "OK")


def history(send: Send, token: str) -> str:
    answer = send("GET", "/voice/calls?limit=500", {"Authorization": f"Bearer {token}"}, None)
    assert answer.status == 200, answer.text
    return answer.text


def check_the_token_holds(send: Send, fake_at: FakeAT, token: str) -> None:
    """Every spelling of every protected request, without the token: no data, no call."""
    store_a_call(send)
    before = history(send, token)
    assert SECRET_SESSION in before
    sent = 0
    for method, path, query, form in protected_requests():
        headers = {} if form is None else {"Content-Type": FORM}
        for spelling in spellings(path):
            target = with_query(spelling, query)
            answer = send(method, target, headers, form)
            sent += 1
            assert not 200 <= answer.status < 400, f"{method} {target}: {answer.status}"
            assert SECRET_SESSION not in answer.text, f"{method} {target}"
    assert sent > 100
    assert fake_at.received == [], "a request without the token placed a call"
    assert history(send, token) == before
    # With the token, the doubled slash reaches the same resources: the refusals are the
    # guard's, not a router that never got there.
    answer = send("GET", "//voice/calls", {"Authorization": f"Bearer {token}"}, None)
    assert answer.status == 200 and SECRET_SESSION in answer.text


def in_process_sender(client: falcon.testing.TestClient) -> Send:
    def send(method: str, target: str, headers: dict[str, str], form: str | None) -> Answer:
        kwargs: dict[str, Any] = {"headers": headers}
        if form is not None:
            kwargs["body"] = form
        result = client.simulate_request(method, target, **kwargs)
        return Answer(result.status_code, result.text)

    return send


def test_no_spelling_of_a_protected_path_passes_the_token(config: Config, fake_at: FakeAT) -> None:
    client = falcon.testing.TestClient(create_app(replace(config, api_token=API_TOKEN)))
    check_the_token_holds(in_process_sender(client), fake_at, API_TOKEN)
    assert client.simulate_get("//voice/calls", headers=auth()).status_code == 200
