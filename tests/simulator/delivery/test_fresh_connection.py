"""A stale kept-alive connection is never the app's fault: a request it kept from the app is
sent once more on a new connection; a request the app received is never sent twice."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from at_voice_kit.simulator.client.remote import SimulatorClient
from at_voice_kit.simulator.delivery.http_delivery import HttpxWebhookDelivery
from at_voice_kit.simulator.engine.ports import WebhookRequest, WebhookResult
from at_voice_kit.simulator.verify.exchanges import Answer, SentRequest
from at_voice_kit.simulator.verify.transport import Poster, Target, open_client
from tests.simulator.atsim_process import atsim_serve
from tests.simulator.delivery.keepalive_server import KeepAliveServer


def answers_500_then_drops_the_next(number: int) -> str:
    """An app whose server answers 500, then closes the connection under the next request."""
    return "500" if number == 0 else "drop-unread"


def deliver_all(url: str, count: int, *, timeout: float = 5) -> list[WebhookResult]:
    async def run() -> list[WebhookResult]:
        async with HttpxWebhookDelivery(timeout=timeout) as delivery:
            return [
                await delivery.deliver(WebhookRequest(url, (("isActive", "1"), ("n", str(n)))))
                for n in range(count)
            ]

    return asyncio.run(run())


def test_the_simulators_delivery_sends_a_request_a_stale_connection_dropped_again() -> None:
    with KeepAliveServer(answers_500_then_drops_the_next) as app:
        results = deliver_all(app.url + "/voice", 20)
    assert [(r.status, r.error) for r in results] == [(500, None)] * 20
    assert [form["n"] for form in app.received] == [str(n) for n in range(20)]  # each once


def test_verifys_transport_does_the_same() -> None:
    async def run(url: str) -> list[Answer]:
        async with (
            open_client(Target(url), concurrency=1) as client,
            Poster(client, timeout=5) as poster,
        ):
            return [await poster.post(SentRequest(url, (("n", str(n)),))) for n in range(10)]

    with KeepAliveServer(answers_500_then_drops_the_next) as app:
        answers = asyncio.run(run(app.url + "/voice/instruct"))
    assert [(a.status, a.error) for a in answers] == [(500, None)] * 10
    assert len(app.received) == 10


@pytest.mark.parametrize(
    ("script", "sent", "expected"),
    [
        # The answer had begun (status line and headers) when the connection closed.
        (lambda n: "200" if n == 0 else "mid-body", 2, "RemoteProtocolError"),
        # A connection opened for this very request: no stale connection to blame.
        (lambda n: "close", 1, "RemoteProtocolError"),
        # The app received it and kept it past the deadline.
        (lambda n: "200" if n == 0 else "hang", 2, "no answer within 0.5 s"),
    ],
    ids=["answer-begun", "new-connection", "timed-out"],
)
def test_a_request_the_app_received_is_never_sent_twice(
    script: Any, sent: int, expected: str
) -> None:
    with KeepAliveServer(script) as app:
        results = deliver_all(app.url + "/voice", sent, timeout=0.5)
        received = len(app.received)
    last = results[-1]
    assert last.error is not None and expected in last.error, last
    assert received == sent  # no double webhook


CALLS = 50


def test_fifty_calls_at_speed_fast_to_an_app_that_answers_500_and_closes() -> None:
    """The case reported: each call's final request followed the 500 at once, on the
    connection the app's server was closing (7 of 20 calls journaled 'no answer' before)."""
    users = [f"+2547220003{n:02d}" for n in range(CALLS)]
    with (
        KeepAliveServer(answers_500_then_drops_the_next) as app,
        atsim_serve("--speed", "fast", "--seed", "3") as atsim,
        SimulatorClient(atsim.url) as sim,
    ):
        number = "+254711082099"
        sim.admin("PUT", f"numbers/{number}", {"username": "sandbox",
                  "callbackUrl": app.url + "/voice", "eventsUrl": None})  # fmt: skip
        for user in users:
            sim.set_callee(user, {"answer": "answered"})
        sessions = [
            entry["sessionId"]
            for start in range(0, CALLS, 10)
            for entry in sim.place_call(number, users[start : start + 10])["entries"]
        ]
        deadline = time.monotonic() + 120
        calls = [sim.wait_for_end(sid, max(deadline - time.monotonic(), 1)) for sid in sessions]
        received = len(app.received)
    webhooks = [w for call in calls for w in call["webhooks"]]
    failed = [(w["form"]["isActive"], w["error"]) for w in webhooks if w["status"] != 500]
    assert failed == [], f"{len(failed)} webhooks blamed on the app"
    assert len(webhooks) == 2 * CALLS  # the first request and the final one, per call
    assert received == len(webhooks)  # each reached the app exactly once
    assert all(call["outcome"]["reason"].startswith("app failure: the app answered HTTP 500")
               for call in calls)  # fmt: skip
