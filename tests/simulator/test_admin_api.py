"""The admin API under ``/_simulator/``: set-up, reset, journal; strict validation with RFC 7807
problem documents naming each field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from at_voice_kit.simulator.backend.journal import WebhookExchange
from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_AT_NUMBER,
    SimulatorConfig,
)
from at_voice_kit.simulator.engine.ports import WebhookRequest, WebhookResult
from tests.simulator.simulator_client import KE_NUMBERS, InProcessSimulator

TOKEN = "s3cret-admin-token-0123"


def body(result: Any) -> Any:
    return json.loads(result.text)


def assert_problem(result: Any, status: int, *fields: str) -> dict[str, Any]:
    assert result.status_code == status, result.text
    assert result.headers["Content-Type"] == "application/problem+json"
    problem: dict[str, Any] = body(result)
    assert problem["status"] == status
    assert problem["type"].startswith("urn:atsim:problem:")
    assert problem["title"] and problem["detail"]
    if fields:
        assert [error["field"] for error in problem["errors"]] == list(fields)
    return problem


def test_health_says_how_the_simulator_is_set() -> None:
    sim = InProcessSimulator(SimulatorConfig(seed=5))
    result = sim.admin("GET", "health")
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "application/json"
    assert body(result) | {"version": "x"} == {
        "status": "ok",
        "version": "x",
        "speed": "real",
        "seeded": True,
        "seed": 5,
        "warning": "seeded: session ids and recordings are predictable, for tests only",
        "accounts": 1,
        "numbers": 1,
        "calls": 0,
        "liveCalls": 0,
    }


def test_reset_returns_to_the_configured_start() -> None:
    sim = InProcessSimulator()
    sim.call(KE_NUMBERS[0])
    sim.admin("PUT", "accounts/sandbox", json={"balance": 1})
    sim.admin("PUT", f"callees/{KE_NUMBERS[0]}", json={"answer": "busy"})
    sim.admin("PUT", "numbers/+254711082010", json={})
    sim.backend.queues.enqueue(DEFAULT_AT_NUMBER, "", "ATVId_" + "1" * 32)
    result = sim.admin("POST", "reset")
    assert (result.status_code, body(result)) == (200, {"status": "reset"})
    assert body(sim.admin("GET", "calls")) == {"calls": []}
    assert body(sim.admin("GET", "requests")) == {"requests": []}
    assert body(sim.admin("GET", "queues")) == {"queues": []}
    assert body(sim.admin("GET", "callees"))["callees"] == []
    assert [n["phoneNumber"] for n in body(sim.admin("GET", "numbers"))["numbers"]] == [
        DEFAULT_AT_NUMBER
    ]
    assert body(sim.admin("GET", "accounts/sandbox"))["balance"] == "10000.00"


def test_accounts_are_listed_without_keys_and_balances_set() -> None:
    sim = InProcessSimulator()
    assert body(sim.admin("GET", "accounts")) == {
        "accounts": [{"username": "sandbox", "balance": "10000.00", "currency": "KES"}]
    }
    updated = sim.admin("PUT", "accounts/sandbox", json={"balance": "2.5"})
    assert (updated.status_code, body(updated)["balance"]) == (200, "2.50")
    document = json.loads(sim.call(KE_NUMBERS[0], KE_NUMBERS[1]).text)
    assert [e["status"] for e in document["entries"]] == ["Queued", "InsufficientCredit"]
    assert body(sim.admin("GET", "accounts/sandbox"))["balance"] == "0.00"


def test_an_account_is_created_with_a_key_and_can_then_call() -> None:
    sim = InProcessSimulator()
    missing_key = sim.admin("PUT", "accounts/acme", json={"balance": 5})
    assert_problem(missing_key, 409)
    created = sim.admin(
        "PUT", "accounts/acme", json={"apiKey": "acme-key", "balance": 100, "currency": "UGX"}
    )
    assert created.status_code == 201
    assert created.headers["Location"] == "/_simulator/accounts/acme"
    assert body(created) == {"username": "acme", "balance": "100.00", "currency": "UGX"}
    number = sim.admin("PUT", "numbers/+256772100200", json={"username": "acme"})
    assert number.status_code == 201
    result = sim.post(
        "/call",
        {"username": "acme", "from": "+256772100200", "to": KE_NUMBERS[0]},
        api_key="acme-key",
    )
    assert json.loads(result.text)["entries"][0]["status"] == "Queued"
    assert (
        sim.post(
            "/call",
            {"username": "acme", "from": "+256772100200", "to": KE_NUMBERS[0]},
            api_key=DEFAULT_API_KEY,
        ).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"balance": -1}, ["balance"]),
        ({"balance": "1e5"}, ["balance"]),
        ({"balance": True}, ["balance"]),
        ({"currency": "kes", "apiKey": "has space"}, ["apiKey", "currency"]),
        ({"apikey": "x"}, ["apikey"]),
    ],
)
def test_account_settings_are_validated_strictly(payload: object, fields: list[str]) -> None:
    sim = InProcessSimulator()
    problem = assert_problem(sim.admin("PUT", "accounts/sandbox", json=payload), 422, *fields)
    assert all(error["rule"] for error in problem["errors"])
    assert body(sim.admin("GET", "accounts/sandbox"))["balance"] == "10000.00"


def test_numbers_are_created_changed_cleared_and_deleted() -> None:
    sim = InProcessSimulator()
    path = "numbers/+254711082050"
    created = sim.admin(
        "PUT",
        path,
        json={"callbackUrl": "http://127.0.0.1:8000/cb", "eventsUrl": "http://127.0.0.1:8000/ev"},
    )
    assert created.status_code == 201
    assert body(created) == {
        "phoneNumber": "+254711082050",
        "username": "sandbox",
        "callbackUrl": "http://127.0.0.1:8000/cb",
        "eventsUrl": "http://127.0.0.1:8000/ev",
        "mediaUrls": [],
    }
    changed = sim.admin("PUT", path, json={"eventsUrl": None})
    assert changed.status_code == 200
    assert (body(changed)["callbackUrl"], body(changed)["eventsUrl"]) == (
        "http://127.0.0.1:8000/cb",
        None,
    )
    encoded = sim.admin("GET", "numbers/%2B254711082050")
    assert body(encoded)["phoneNumber"] == "+254711082050"
    assert sim.admin("DELETE", path).status_code == 204
    assert_problem(sim.admin("GET", path), 404)
    assert_problem(sim.admin("DELETE", path), 404)


def test_a_new_number_must_name_its_owner_when_there_are_several_accounts() -> None:
    sim = InProcessSimulator()
    sim.admin("PUT", "accounts/acme", json={"apiKey": "acme-key"})
    assert_problem(sim.admin("PUT", "numbers/+254711082051", json={}), 409)
    assert_problem(sim.admin("PUT", "numbers/+254711082051", json={"username": "nobody"}), 409)


@pytest.mark.parametrize(
    ("path", "payload", "fields"),
    [
        ("numbers/+254711082052", {"callbackUrl": "ftp://x"}, ["callbackUrl"]),
        ("numbers/+254711082052", {"callbackUrl": "/relative"}, ["callbackUrl"]),
        ("numbers/+2547110820", {}, ["number"]),
        ("numbers/254711082052", {}, ["number"]),
        ("numbers/+254711082052", {"username": "no spaces please"}, ["username"]),
        # URLs no HTTP client can use: once accepted, they answered /call with a 500.
        ("numbers/+254711082052", {"callbackUrl": "http://[::1/voice"}, ["callbackUrl"]),
        ("numbers/+254711082052", {"callbackUrl": "http://[0]/voice"}, ["callbackUrl"]),
        ("numbers/+254711082052", {"eventsUrl": "http://app:99999/events"}, ["eventsUrl"]),
        ("numbers/+254711082052", {"eventsUrl": "http://app:port/events"}, ["eventsUrl"]),
        ("numbers/+254711082052", {"callbackUrl": "http://:/voice"}, ["callbackUrl"]),
        ("numbers/+254711082052", {"callbackUrl": "http://a@b@c/voice"}, ["callbackUrl"]),
    ],
)
def test_number_settings_are_validated_strictly(
    path: str, payload: object, fields: list[str]
) -> None:
    sim = InProcessSimulator()
    assert_problem(sim.admin("PUT", path, json=payload), 422, *fields)
    assert len(body(sim.admin("GET", "numbers"))["numbers"]) == 1


def test_callees_are_set_replaced_and_forgotten() -> None:
    sim = InProcessSimulator()
    path = f"callees/{KE_NUMBERS[0]}"
    assert_problem(sim.admin("GET", path), 404)
    created = sim.admin(
        "PUT", path, json={"answer": "answered", "digits": ["1", "2#"], "hangupAfter": 12.5}
    )
    assert created.status_code == 201
    assert body(created) == {
        "phoneNumber": KE_NUMBERS[0],
        "answer": "answered",
        "digits": ["1", "2#"],
        "hangupAfter": 12.5,
        "speechSeconds": None,
    }
    replaced = sim.admin("PUT", path, json={"answer": "busy"})
    assert replaced.status_code == 200
    assert body(replaced)["digits"] == []  # PUT replaces: nothing kept from before
    script = sim.backend.callees.script_for(KE_NUMBERS[0])
    assert script is not None and script.answer is not None
    assert (script.answer.value, script.digits, script.hangup_after) == ("busy", (), None)
    assert body(sim.admin("GET", "callees")) == {
        "default": None,  # nobody scripted: drawn from the outcome distribution
        "callees": [
            {
                "phoneNumber": KE_NUMBERS[0],
                "answer": "busy",
                "digits": [],
                "hangupAfter": None,
                "speechSeconds": None,
            }
        ],
    }
    assert sim.admin("DELETE", path).status_code == 204
    assert sim.backend.callees.script_for(KE_NUMBERS[0]) is None


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, ["answer"]),
        ({"answer": "maybe"}, ["answer"]),
        ({"answer": "busy", "digits": "12"}, ["digits"]),
        ({"answer": "busy", "digits": ["1", "", "a", 5]}, ["digits[2]", "digits[3]"]),
        ({"answer": "busy", "digits": ["1" * 33]}, ["digits[0]"]),
        ({"answer": "busy", "speechSeconds": -1}, ["speechSeconds"]),
        ({"answer": "busy", "hangupAfter": 0}, ["hangupAfter"]),
        ({"answer": "busy", "hangupAfter": 86401}, ["hangupAfter"]),
        ({"answer": "busy", "hangupAfter": "10"}, ["hangupAfter"]),
        ({"answer": "busy", "hangupAfter": False}, ["hangupAfter"]),
        ({"answer": "busy", "hangup_after": 3}, ["hangup_after"]),
        ([], [""]),
    ],
)
def test_callee_settings_are_validated_strictly(payload: object, fields: list[str]) -> None:
    sim = InProcessSimulator()
    assert_problem(sim.admin("PUT", f"callees/{KE_NUMBERS[0]}", json=payload), 422, *fields)
    assert sim.backend.callees.all() == ()


@pytest.mark.parametrize(
    "url",
    ["http://[::1]:8000/voice", "https://u:p@app.example:65535/v?a=1#f", "http://[fe80::1:2]/v"],
)
def test_urls_with_ipv6_hosts_user_info_and_ports_are_accepted(url: str) -> None:
    sim = InProcessSimulator()
    result = sim.admin("PUT", f"numbers/{DEFAULT_AT_NUMBER}", json={"callbackUrl": url})
    assert result.status_code == 200, result.text
    assert body(result)["callbackUrl"] == url


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("{answer", "Expecting property name"),
        ("[" * 100_000, "nested too deeply"),  # used to be a RecursionError: a 500
        ('{"answer": "busy", "\\ud800": 1}', "lone surrogate"),  # used to be a 500 too
    ],
)
def test_bodies_that_are_not_json_are_refused(text: str, detail: str) -> None:
    sim = InProcessSimulator()
    path = f"callees/{KE_NUMBERS[0]}"
    malformed = sim.admin("PUT", path, body=text, headers={"Content-Type": "application/json"})
    assert detail in assert_problem(malformed, 400)["detail"]
    assert body(sim.admin("GET", "callees"))["callees"] == []
    form = sim.admin(
        "PUT",
        path,
        body="answer=busy",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(form, 415)


def test_calls_are_listed_and_each_has_its_journal() -> None:
    sim = InProcessSimulator()
    sim.call(KE_NUMBERS[0], clientRequestId="abc")
    (call,) = body(sim.admin("GET", "calls"))["calls"]
    assert call["phase"] == "queued"
    assert (call["atNumber"], call["phoneNumber"], call["clientRequestId"]) == (
        DEFAULT_AT_NUMBER,
        KE_NUMBERS[0],
        "abc",
    )
    assert (call["direction"], call["reserved"], call["cost"]) == ("Outbound", "2.50", None)
    session_id = call["sessionId"]
    sim.backend.journal.record_webhook(
        session_id,
        WebhookExchange(
            WebhookRequest(
                "http://127.0.0.1:8000/cb", (("isActive", "1"), ("sessionId", session_id))
            ),
            WebhookResult(200, "<Response/>", elapsed=0.012),
            sent_at=datetime(2025, 1, 1, tzinfo=UTC),
        ),
    )
    detail = body(sim.admin("GET", f"calls/{session_id}"))
    (request,) = detail["requests"]
    assert (request["path"], request["status"], request["form"]["to"]) == (
        "/call",
        200,
        KE_NUMBERS[0],
    )
    assert detail["webhooks"] == [
        {
            "kind": "callback",
            "url": "http://127.0.0.1:8000/cb",
            "form": {"isActive": "1", "sessionId": session_id},
            "status": 200,
            "body": "<Response/>",
            "bodySize": 11,
            "bodyTruncated": False,
            "error": None,
            "timedOut": False,
            "note": None,
            "startedAt": "2025-01-01T00:00:00+00:00",
            "elapsedSeconds": 0.012,
        }
    ]
    assert_problem(sim.admin("GET", "calls/ATVId_nope"), 404)


def test_queues_show_the_waiting_calls() -> None:
    sim = InProcessSimulator()
    sim.backend.queues.enqueue(DEFAULT_AT_NUMBER, "sales", "ATVId_" + "a" * 32)
    assert body(sim.admin("GET", "queues")) == {
        "queues": [
            {
                "phoneNumber": DEFAULT_AT_NUMBER,
                "queueName": "sales",
                "numCalls": 1,
                "sessionIds": ["ATVId_" + "a" * 32],
            }
        ]
    }


def test_unknown_admin_paths_and_methods_are_problems() -> None:
    sim = InProcessSimulator()
    assert_problem(sim.admin("GET", "nothing-here"), 404)
    wrong_method = assert_problem(sim.admin("DELETE", "calls"), 405)
    assert wrong_method["title"] == "Method Not Allowed"


def test_the_contract_is_served() -> None:
    result = InProcessSimulator().admin("GET", "openapi.yaml")
    assert result.status_code == 200
    assert result.text.startswith("openapi: 3.1.0")


def test_with_an_admin_token_every_admin_request_but_health_needs_it() -> None:
    sim = InProcessSimulator(SimulatorConfig(admin_token=TOKEN))
    refused = sim.admin("GET", "calls")
    assert_problem(refused, 401)
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(sim.admin("GET", "calls", headers={"Authorization": "Bearer wrong"}), 401)
    assert_problem(sim.admin("POST", "reset", headers={"Authorization": TOKEN}), 401)
    allowed = sim.admin("GET", "calls", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200
    assert sim.admin("GET", "health").status_code == 200
    # The REST surface keeps its own authentication: the admin token is not an API key.
    assert sim.call(KE_NUMBERS[0]).status_code == 200


def test_without_a_token_the_admin_api_answers_this_machine_only() -> None:
    """Served other than by ``atsim serve`` (``uvicorn ...serving.asgi:app --host 0.0.0.0``)
    the app cannot see where it listens, and had no token: anyone reaching the port could
    set an account's key (200 from 203.0.113.5). The peer's address is what decides."""
    sim = InProcessSimulator()
    elsewhere = {"remote_addr": "203.0.113.5"}
    refused = sim.admin("PUT", "accounts/sandbox", json={"apiKey": "stolen-key-1234"}, **elsewhere)
    assert_problem(refused, 401)
    assert "ATSIM_ADMIN_TOKEN" in refused.json["detail"]
    for method, path in (("GET", "accounts"), ("GET", "calls"), ("POST", "reset")):
        assert_problem(sim.admin(method, path, **elsewhere), 401)
    health = sim.admin("GET", "health", **elsewhere)
    assert health.status_code == 200 and "seed" not in health.json
    assert sim.call(KE_NUMBERS[0]).status_code == 200  # the key was not changed
    for address in ("127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"):
        assert sim.admin("GET", "accounts", remote_addr=address).status_code == 200, address
    assert sim.admin("GET", "health").json["seed"] == 7


def test_with_a_token_another_machine_may_use_the_admin_api() -> None:
    sim = InProcessSimulator(SimulatorConfig(admin_token=TOKEN))
    answer = sim.admin(
        "GET", "accounts", remote_addr="203.0.113.5", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200


def test_a_forwarding_header_does_not_make_a_request_local() -> None:
    sim = InProcessSimulator()
    for header in ("X-Forwarded-For", "X-Real-IP"):
        answer = sim.admin(
            "GET", "accounts", remote_addr="203.0.113.5", headers={header: "127.0.0.1"}
        )
        assert_problem(answer, 401)
    forwarded = {"Forwarded": "for=127.0.0.1"}
    assert_problem(sim.admin("GET", "calls", remote_addr="203.0.113.5", headers=forwarded), 401)
