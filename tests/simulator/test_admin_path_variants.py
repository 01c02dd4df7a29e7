"""The admin token cannot be walked around by spelling a path differently.

Issue 14: ``atsim serve --host 0.0.0.0`` refused ``/_simulator/accounts`` without the token
but answered ``//_simulator/accounts`` with the data (and let ``PUT //_simulator/accounts/
sandbox`` change a key, ``POST //_simulator/reset`` wipe the state): the guard tested the
path string, the router reads ``//`` as ``/``. Every protected route is tried here with every
spelling in :mod:`tests.path_variants`, in-process and over real sockets against a real
``atsim serve`` (with a made-up token on 0.0.0.0, and with ``ATSIM_ADMIN_TOKEN`` on loopback):
none may answer data or change state, the journal keeps none of them as an API request, and
every refusal is the admin API's problem document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_AT_NUMBER,
    DEFAULT_USERNAME,
    SimulatorConfig,
)
from at_voice_kit.simulator.serving.admin.auth import needs_admin_token
from at_voice_kit.simulator.serving.admin.responses import ContractResource, HealthResource
from at_voice_kit.simulator.serving.rest.responses import CallResource
from tests.path_variants import absolute_form_spellings, send_raw, spellings
from tests.simulator.atsim_process import atsim_serve
from tests.simulator.simulator_client import KE_NUMBERS, InProcessSimulator

TOKEN = "path-variant-admin-token-0123"
CALLEE = KE_NUMBERS[1]


@dataclass(frozen=True)
class Answer:
    """An answer, whichever way it was obtained."""

    status: int
    content_type: str
    text: str


Send = Callable[[str, str, dict[str, str], Any], Answer]
"""``send(method, target, headers, json_body)``."""


def protected_routes(session_id: str) -> list[tuple[str, str, Any]]:
    """Every admin route that needs the token, with a body that would change state."""
    number = DEFAULT_AT_NUMBER
    return [
        ("GET", "/_simulator/accounts", None),
        ("GET", "/_simulator/accounts/sandbox", None),
        ("PUT", "/_simulator/accounts/sandbox", {"apiKey": "stolen-key-0123", "balance": 1}),
        ("PUT", "/_simulator/accounts/intruder", {"apiKey": "intruder-key-0123"}),
        ("GET", "/_simulator/numbers", None),
        ("GET", f"/_simulator/numbers/{number}", None),
        ("PUT", f"/_simulator/numbers/{number}", {"callbackUrl": "http://attacker.test/cb"}),
        ("DELETE", f"/_simulator/numbers/{number}", None),
        ("GET", "/_simulator/callees", None),
        ("PUT", f"/_simulator/callees/{CALLEE}", {"answer": "busy"}),
        ("GET", f"/_simulator/callees/{CALLEE}", None),
        ("DELETE", f"/_simulator/callees/{CALLEE}", None),
        ("GET", "/_simulator/calls", None),
        ("POST", "/_simulator/calls", {"from": KE_NUMBERS[2], "to": number}),
        ("GET", f"/_simulator/calls/{session_id}", None),
        ("GET", "/_simulator/queues", None),
        ("GET", "/_simulator/event-faults", None),
        ("PUT", "/_simulator/event-faults", {"duplicateProbability": 1}),
        ("GET", "/_simulator/requests", None),
        ("POST", "/_simulator/reset", None),
        # The dashboard's data and the dev phones (issue 17): the same guard.
        ("GET", "/_simulator/board", None),
        ("GET", "/_simulator/board/numbers", None),
        ("GET", f"/_simulator/board/calls/{session_id}", None),
        ("GET", "/_simulator/feed?follow=false&after=0", None),
        ("GET", "/_simulator/phones", None),
        ("GET", PHONE_EVENTS, None),
        (
            "POST",
            f"/_simulator/phones/{PERSON}/actions",
            {"sessionId": session_id, "action": "hangup"},
        ),
        ("POST", f"/_simulator/phones/{PERSON}/calls", {"to": number}),
        ("GET", SPEECH, None),
    ]


PERSON = "+254722000100"
PHONE_EVENTS = f"/_simulator/phones/{PERSON}/events"
SPEECH = "/_simulator/speech/" + "0" * 32 + ".wav"
NOT_READ = {PHONE_EVENTS, SPEECH}
"""Refused without the token, but not read with it: a stream never ends, and no speech has
that id (its 404 would say nothing about the router)."""
STATE_PATHS = (
    "accounts", "numbers", "callees", "calls", "queues", "event-faults", "requests", "phones",
)  # fmt: skip


def state(send: Send) -> dict[str, Any]:
    """Everything the admin API shows, read with the token."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    documents = {}
    for path in STATE_PATHS:
        answer = send("GET", f"/_simulator/{path}", auth, None)
        assert answer.status == 200, answer.text
        documents[path] = json.loads(answer.text)
    return documents


def place_call(send: Send) -> str:
    """A call through the REST surface, so there is data to steal; its session id."""
    form = urlencode({"username": DEFAULT_USERNAME, "from": DEFAULT_AT_NUMBER, "to": CALLEE})
    answer = send("POST", "/call", {"apiKey": DEFAULT_API_KEY}, form)
    assert answer.status == 200, answer.text
    found = re.search(r"ATVId_[0-9a-f]{32}", answer.text)
    assert found is not None, answer.text
    return found.group(0)


def try_every_spelling(send: Send, session_id: str, extra: Callable[[str], list[str]]) -> int:
    """Send every spelling of every protected route without the token; check each answer.

    Returns how many requests were sent. ``extra(path)`` adds spellings only a socket can send.
    """
    sent = 0
    for method, path, body in protected_routes(session_id):
        for target in [*spellings(path), *extra(path)]:
            answer = send(method, target, {}, body)
            sent += 1
            where = f"{method} {target}"
            assert not 200 <= answer.status < 400, f"{where} answered {answer.status}"
            assert session_id not in answer.text, where
            assert "balance" not in answer.text and "callbackUrl" not in answer.text, where
            if answer.status == 401:
                assert answer.content_type == "application/problem+json", where
    return sent


def assert_spellings_reach_the_admin_api(send: Send, session_id: str) -> None:
    """With the token, the doubled-slash spellings do reach the routes: the refusals above
    are the guard's, not a router that never got there."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for method, path, _ in protected_routes(session_id):
        if method == "GET" and path not in NOT_READ:
            answer = send(method, "/" + path, auth, None)
            assert answer.status == 200, f"{method} /{path}: {answer.status} {answer.text}"


def check_the_admin_api_holds(send: Send, extra: Callable[[str], list[str]]) -> None:
    session_id = place_call(send)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    scripted = send("PUT", f"/_simulator/callees/{CALLEE}", auth, {"answer": "answered"})
    assert scripted.status in (200, 201), scripted.text
    before = state(send)
    sent = try_every_spelling(send, session_id, extra)
    assert sent > 500
    after = state(send)
    journal = after.pop("requests")["requests"]
    before.pop("requests")
    assert after == before, "a request without the token changed the simulator's state"
    # Nothing the router sent to the admin API was journaled as an API request: besides the
    # call, the journal holds only spellings the router sent nowhere (a 404, like any path
    # AT does not serve), answered in AT's shape.
    assert journal[0]["path"] == "/call"
    for entry in journal[1:]:
        assert entry["status"] == 404 and entry["contentType"].startswith("text/plain"), entry
    assert_spellings_reach_the_admin_api(send, session_id)


def in_process_sender(sim: InProcessSimulator) -> Send:
    def send(method: str, target: str, headers: dict[str, str], body: Any) -> Answer:
        kwargs: dict[str, Any] = {"headers": dict(headers)}
        if isinstance(body, str):
            kwargs["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
            kwargs["body"] = body
        elif body is not None:
            kwargs["json"] = body
        result = sim.client.simulate_request(method, target, **kwargs)
        return Answer(result.status_code, result.headers.get("Content-Type") or "", result.text)

    return send


def socket_sender(base_url: str) -> Send:
    def send(method: str, target: str, headers: dict[str, str], body: Any) -> Answer:
        if isinstance(body, str):
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
            answer = send_raw(base_url, method, target, headers=headers, text_body=body)
        else:
            answer = send_raw(base_url, method, target, headers=headers, json_body=body)
        return Answer(answer.status, answer.headers.get("content-type", ""), answer.text)

    return send


def test_no_spelling_of_an_admin_path_passes_the_token_in_process() -> None:
    sim = InProcessSimulator(SimulatorConfig(seed=3, admin_token=TOKEN))
    check_the_admin_api_holds(in_process_sender(sim), lambda path: [])


@pytest.mark.e2e
def test_no_spelling_passes_the_token_atsim_serve_made_up_on_every_interface() -> None:
    with atsim_serve("--host", "0.0.0.0") as atsim:
        made_up = re.search(r"Authorization: Bearer (\S+)\)", atsim.banner)
        assert made_up is not None, atsim.banner
        token = made_up.group(1)
        authority = urlsplit(atsim.url).netloc
        send = with_token_as(socket_sender(atsim.url), token)
        check_the_admin_api_holds(send, lambda path: absolute_form_spellings(path, authority))


@pytest.mark.e2e
def test_no_spelling_passes_the_admin_token_of_the_environment_on_loopback() -> None:
    with atsim_serve(env={"ATSIM_ADMIN_TOKEN": TOKEN}) as atsim:
        authority = urlsplit(atsim.url).netloc
        send = socket_sender(atsim.url)
        check_the_admin_api_holds(send, lambda path: absolute_form_spellings(path, authority))


def with_token_as(send: Send, token: str) -> Send:
    """``send`` with this module's ``TOKEN`` replaced by ``token`` (one made up by the server)."""

    def sending(method: str, target: str, headers: dict[str, str], body: Any) -> Answer:
        if headers.get("Authorization") == f"Bearer {TOKEN}":
            headers = {**headers, "Authorization": f"Bearer {token}"}
        return send(method, target, headers, body)

    return sending


def test_an_unrouted_admin_spelling_is_a_404_in_the_admin_shape() -> None:
    sim = InProcessSimulator(SimulatorConfig(admin_token=TOKEN))
    send = in_process_sender(sim)
    nowhere = send("GET", "/_simulator//accounts", {}, None)
    assert (nowhere.status, nowhere.content_type) == (404, "application/problem+json")
    # The router reads leading slashes away: this is the admin API, refused in its shape.
    refused = send("GET", "//_simulator/calls", {}, None)
    assert (refused.status, refused.content_type) == (401, "application/problem+json")


def test_location_is_the_canonical_path_whatever_the_spelling() -> None:
    sim = InProcessSimulator(SimulatorConfig(admin_token=TOKEN))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    created = sim.client.simulate_put(
        "//_simulator/accounts/acme", headers=auth, json={"apiKey": "acme-key-0123"}
    )
    assert created.status_code == 201, created.text
    # "//_simulator/..." in Location would name a host called "_simulator".
    assert created.headers["Location"] == "/_simulator/accounts/acme"


def test_a_resource_that_does_not_say_where_it_belongs_is_closed() -> None:
    """Secure by default: a route added without a surface marker needs the token."""

    class Unmarked:
        async def on_get(self, req: object, resp: object) -> None:
            """Nothing."""

    sim = InProcessSimulator(SimulatorConfig(admin_token=TOKEN))
    assert needs_admin_token(Unmarked())
    assert not needs_admin_token(HealthResource(sim.backend))
    assert not needs_admin_token(ContractResource())
    assert not needs_admin_token(CallResource(sim.backend))
