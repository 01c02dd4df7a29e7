"""Queued calls really happen: the simulator's REST surface, admin API and backend driving the
call engine (in-process apps, virtual time unless a test needs real time to act mid-call)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from at_voice_kit.contracts.vocabulary import EventType
from at_voice_kit.simulator.backend.calls import CallPhase
from at_voice_kit.simulator.backend.platform_config import DEFAULT_USERNAME
from at_voice_kit.simulator.engine.memory import AppAnswer
from tests.simulator.platform_harness import (
    APP,
    AT,
    SIM,
    Platform,
    answering,
    run_platform,
    webhooks,
    xml,
)

USER = "+254711082369"
AGENT = "+254722555001"
MENU = xml('<GetDigits numDigits="1" timeout="5"><Say>Press 1</Say></GetDigits>')
RECORD = xml('<Record finishOnKey="#" maxLength="20"><Say>Speak</Say></Record>')


def test_a_queued_call_rings_runs_the_app_and_settles_its_cost() -> None:
    async def scenario(p: Platform) -> None:
        await p.wire()
        await p.script(USER, digits=["1"], speechSeconds=4)
        p.app(answering(MENU, RECORD, xml("<Say>Thanks</Say>")))
        (session_id,) = await p.call(USER)
        call = await p.ended(session_id)
        callbacks = webhooks(call, "callback")
        assert {form["sessionId"] for form in callbacks} == {session_id}  # REST's id, used
        assert [f.get("dtmfDigits") for f in callbacks] == [None, "1", None, None]
        recording_url = callbacks[2]["recordingUrl"]
        assert recording_url.startswith(f"{SIM}/recordings/{session_id}-")
        final = callbacks[-1]
        assert (final["isActive"], final["status"]) == ("0", "Success")
        assert "hangupCause" not in final  # an answered call's final request names none
        assert call["outcome"]["hangupCause"] == "NORMAL_CLEARING"
        assert (final["currencyCode"], call["currency"]) == ("KES", "KES")
        # The account's price list (KE 2.50 a minute, per second) prices the final request,
        # and exactly that is charged against the balance.
        amount = Decimal(final["amount"])
        assert amount == (Decimal("2.50") * int(final["durationInSeconds"]) / 60).quantize(
            Decimal("0.001")
        )
        assert Decimal(call["cost"]) == amount
        account = await p.admin("GET", f"accounts/{DEFAULT_USERNAME}")
        assert Decimal(account["balance"]) == Decimal(10000) - amount
        events = [form["eventType"] for form in webhooks(call, "event")]
        assert events[0] == EventType.SESSION_STARTED and events[-1] == EventType.SESSION_ENDED
        assert call["outcome"]["recordingUrls"] == [recording_url]
        wav = await p.http.get(recording_url.removeprefix(SIM))
        assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
        assert wav.content[:4] == b"RIFF" and wav.content[8:12] == b"WAVE"
        assert (await p.http.get("/recordings/ATVId_nope-1.wav")).status_code == 404

    run_platform(scenario)


@pytest.mark.parametrize(
    ("currency", "number", "kes_per_minute", "units_per_kes"),
    [
        ("UGX", "+256772123456", "6.00", "28.5"),
        ("NGN", "+2348031234567", "8.00", "11.5"),
        ("TZS", "+255754123456", "6.00", "19.5"),
        ("KES", "+256772123456", "6.00", "1"),
    ],
)
def test_an_account_pays_the_default_prices_in_its_own_currency(
    currency: str, number: str, kes_per_minute: str, units_per_kes: str
) -> None:
    """AT bills each account in its currency: the default price list (in shillings) is priced
    in the account's, for the reservation, the final request and the charge alike."""
    per_minute = Decimal(kes_per_minute) * Decimal(units_per_kes)

    async def scenario(p: Platform) -> None:
        await p.wire()
        await p.admin(
            "PUT", f"accounts/{DEFAULT_USERNAME}", {"currency": currency, "balance": "100000"}
        )
        await p.script(number, answer="answered", hangupAfter=42)
        p.app(answering(xml('<GetDigits timeout="60"><Say>Hold on</Say></GetDigits>')))
        (session_id,) = await p.call(number)
        call = await p.ended(session_id)
        final = webhooks(call, "callback")[-1]
        assert (final["currencyCode"], call["currency"]) == (currency, currency)
        amount = Decimal(final["amount"])
        seconds = int(final["durationInSeconds"])
        assert seconds > 0
        assert amount == (per_minute * seconds / 60).quantize(Decimal("0.001"))
        account = await p.admin("GET", f"accounts/{DEFAULT_USERNAME}")
        assert Decimal(account["balance"]) == Decimal(100000) - amount

    run_platform(scenario)


def test_phases_move_from_queued_through_ringing_to_ended() -> None:
    seen: list[CallPhase] = []

    async def scenario(p: Platform) -> None:
        await p.wire()
        p.app(answering(xml("<Say>Hello and goodbye</Say>")))
        (session_id,) = await p.call(USER)
        while (phase := p.backend.calls.get(session_id).phase) is not CallPhase.ENDED:
            if not seen or seen[-1] is not phase:
                seen.append(phase)
            await asyncio.sleep(0)
        seen.append(phase)

    run_platform(scenario, speed="200")
    assert seen[0] is CallPhase.QUEUED and seen[-1] is CallPhase.ENDED
    assert CallPhase.RINGING in seen and CallPhase.ACTIVE in seen


def test_unscripted_callees_draw_from_the_outcome_distribution() -> None:
    causes: list[str] = []

    async def scenario(p: Platform) -> None:
        await p.wire(events=False)
        p.app(answering(xml("<Say>Hi</Say>")))
        numbers = [f"+2547110830{n:02d}" for n in range(40)]
        for session_id in await p.call(*numbers):
            causes.append((await p.ended(session_id))["outcome"]["hangupCause"])

    run_platform(scenario, seed=11)
    assert causes.count("NORMAL_CLEARING") > len(causes) / 2  # most calls answered...
    assert len(set(causes)) >= 3  # ...but not all: the default callee hides nothing


def test_a_scripted_busy_callee_costs_nothing_and_sends_one_final_request() -> None:
    async def scenario(p: Platform) -> None:
        await p.wire()
        await p.script(USER, answer="busy")
        p.app(answering(MENU))
        (session_id,) = await p.call(USER)
        call = await p.ended(session_id)
        (final,) = webhooks(call, "callback")
        assert (final["callSessionState"], final["hangupCause"], final["callStartTime"]) == (
            "NotAnswered",
            "USER_BUSY",
            "None",
        )
        assert call["cost"] == "0.00"
        assert [f["eventType"] for f in webhooks(call, "event")][-1] == "SessionFailed"
        assert (await p.admin("GET", f"accounts/{DEFAULT_USERNAME}"))["balance"] == "10000.00"

    run_platform(scenario)


def test_a_number_without_callback_url_cannot_place_calls_and_says_why() -> None:
    async def scenario(p: Platform) -> None:
        (session_id,) = await p.call(USER)
        call = await p.ended(session_id)
        assert call["webhooks"] == []
        assert call["outcome"]["reason"] == f"not placed: AT number {AT} has no callback URL"
        assert call["cost"] == "0.00"

    run_platform(scenario)


def test_a_failing_app_ends_the_call_and_the_journal_says_why() -> None:
    async def scenario(p: Platform) -> None:
        await p.wire()
        p.app(lambda form: AppAnswer(500, "boom") if form["isActive"] == "1" else "")
        (session_id,) = await p.call(USER)
        call = await p.ended(session_id)
        first = call["webhooks"][[w["kind"] for w in call["webhooks"]].index("callback")]
        assert (first["status"], first["body"], first["note"]) == (
            500,
            "boom",
            "the app answered HTTP 500",
        )
        assert call["outcome"]["status"] == "Aborted"
        assert call["outcome"]["reason"] == "app failure: the app answered HTTP 500"

    run_platform(scenario)


def test_inbound_calls_through_the_admin_api() -> None:
    async def scenario(p: Platform) -> None:
        await p.wire()
        p.app(answering(xml("<Say>Welcome</Say>")))
        started = await p.http.post("/_simulator/calls", json={"from": USER, "to": AT})
        assert started.status_code == 201
        session_id = started.json()["sessionId"]
        assert started.headers["location"] == f"/_simulator/calls/{session_id}"
        call = await p.ended(session_id)
        first = webhooks(call, "callback")[0]
        assert (first["direction"], first["callerNumber"], first["destinationNumber"]) == (
            "Inbound",
            USER,
            AT,
        )
        assert Decimal(call["cost"]) > 0  # inbound minutes cost the account too
        unknown = await p.http.post("/_simulator/calls", json={"from": USER, "to": AGENT})
        assert unknown.status_code == 404
        await p.admin("PUT", f"numbers/{AT}", {"callbackUrl": None})
        silent = await p.http.post("/_simulator/calls", json={"from": USER, "to": AT})
        assert silent.status_code == 409 and "no callback URL" in silent.json()["detail"]

    run_platform(scenario)


async def wait_in_the_queue(p: Platform, caller: str) -> dict[str, Any]:
    """Answer ``caller``'s calls with an Enqueue into "support" and everyone else's with a
    Dequeue from it; have ``caller`` call in, and wait until the call is in the queue. The
    caller's answer from ``POST /_simulator/calls``."""
    p.app(
        lambda form: (
            ""
            if form["isActive"] == "0"
            else xml('<Enqueue name="support"/>')
            if form["callerNumber"] == caller
            else xml(f'<Dequeue phoneNumber="{AT}" name="support"/>')
        )
    )
    waiting: dict[str, Any] = (
        await p.http.post("/_simulator/calls", json={"from": caller, "to": AT})
    ).json()
    for _ in range(5000):
        if p.backend.queues.sizes(AT).get("support"):
            return waiting
        await asyncio.sleep(0.001)
    raise AssertionError(f"the call from {caller} never joined the queue")


def test_enqueue_and_dequeue_use_the_queues_of_queue_status() -> None:
    async def scenario(p: Platform) -> None:
        await p.wire()
        caller, agent = USER, "+254711082370"
        await p.script(caller, hangupAfter=200)
        waiting = await wait_in_the_queue(p, caller)
        status = await p.http.post(
            "/queueStatus",
            data={"username": DEFAULT_USERNAME, "phoneNumbers": AT},
            headers={"apiKey": "atsim-sandbox-key"},
        )
        assert {"phoneNumber": AT, "queueName": "support", "numCalls": 1} in status.json()[
            "entries"
        ]
        queues = (await p.admin("GET", "queues"))["queues"]
        assert queues[0]["sessionIds"] == [waiting["sessionId"]]
        picker = (await p.http.post("/_simulator/calls", json={"from": agent, "to": AT})).json()
        for _ in range(5000):
            if p.backend.calls.get(picker["sessionId"]).bridged_with:
                break
            await asyncio.sleep(0.001)
        assert p.backend.calls.get(picker["sessionId"]).bridged_with == waiting["sessionId"]
        assert p.backend.calls.get(waiting["sessionId"]).bridged_with == picker["sessionId"]
        queued = await p.ended(waiting["sessionId"])
        assert "SessionQueued" in [f["eventType"] for f in webhooks(queued, "event")]
        assert p.backend.queues.sizes(AT) == {"support": 0}

    run_platform(scenario, speed="100")


def test_call_transfer_moves_the_bridged_party() -> None:
    new_party = "+254722555009"

    async def scenario(p: Platform) -> None:
        await p.wire()
        await p.script(AGENT, hangupAfter=120)
        await p.script(new_party, hangupAfter=5)
        p.app(answering(xml(f'<Dial phoneNumbers="{AGENT}"/>')))
        (session_id,) = await p.call(USER)
        for _ in range(20_000):
            if p.backend.calls.get(session_id).bridged_with:
                break
            await asyncio.sleep(0.001)
        leg = p.backend.calls.get(session_id).bridged_with
        assert leg is not None and p.backend.calls.get(leg).phone_number == AGENT
        answer = await p.http.post(
            "/callTransfer",
            data={"username": DEFAULT_USERNAME, "sessionId": session_id, "phoneNumber": new_party},
            headers={"apiKey": "atsim-sandbox-key"},
        )
        assert answer.json() == {
            "callTransferResponse": {"status": "Success", "errorMessage": "None"}
        }
        call = await p.ended(session_id)
        transferred = [f for f in webhooks(call, "event") if f["eventType"] == "SessionTransferred"]
        assert transferred[0]["dialDestinationNumber"] == new_party
        assert [leg["phoneNumber"] for leg in call["outcome"]["legs"]] == [AGENT, new_party]
        assert p.backend.calls.get(leg).phase is CallPhase.ENDED
        assert call["transfers"][0]["phoneNumber"] == new_party

    run_platform(scenario, speed="100")


def test_event_faults_set_in_the_admin_api_apply_to_new_calls() -> None:
    async def scenario(p: Platform) -> None:
        await p.wire()
        p.app(answering(xml("<Say>Hi</Say>")))
        faults = await p.admin("PUT", "event-faults", {"duplicateProbability": 1})
        assert faults["duplicateProbability"] == 1
        (session_id,) = await p.call(USER)
        events = [f["eventType"] for f in webhooks(await p.ended(session_id), "event")]
        assert len(events) >= 8 and len(events) % 2 == 0  # four lifecycle events, each twice
        assert all(events[i] == events[i + 1] for i in range(0, len(events), 2))
        await p.admin("POST", "reset")
        assert (await p.admin("GET", "event-faults"))["duplicateProbability"] == 0

    run_platform(scenario)


def test_a_seed_replays_the_same_calls_after_a_reset() -> None:
    journals: list[list[dict[str, str]]] = []

    async def scenario(p: Platform) -> None:
        for _ in range(2):
            await p.wire()
            await p.script(USER, digits=["1"])
            p.app(answering(MENU, xml("<Say>You pressed one</Say>")))
            (session_id,) = await p.call(USER)
            call = await p.ended(session_id)
            journals.append([w["form"] for w in call["webhooks"]])
            await p.admin("POST", "reset")

    run_platform(scenario)
    assert len(journals[0]) > 5
    assert journals[0] == journals[1]  # same seed, same scripts, same app: same payloads


def test_reset_cancels_live_calls() -> None:
    async def scenario(p: Platform) -> None:
        await p.wire(events=False)
        await p.script(USER)
        p.app(answering(MENU))
        (session_id,) = await p.call(USER)
        await asyncio.sleep(0.01)
        assert p.backend.calls.get(session_id).phase is not CallPhase.ENDED
        await p.admin("POST", "reset")
        # At 50 times real speed the answered call would post its first callback within a
        # second; cancelled, it posts nothing, and nothing reaches the fresh journal.
        await asyncio.sleep(1.0)
        assert p.apps.delivered == []
        assert p.backend.calls.all() == () and p.backend.journal.webhooks_for(session_id) == ()

    run_platform(scenario, speed="50")


def test_the_journal_url_of_callbacks_is_the_numbers_url() -> None:
    async def scenario(p: Platform) -> None:
        await p.wire()
        p.app(answering(xml("<Say>Hi</Say>")))
        (session_id,) = await p.call(USER)
        call = await p.ended(session_id)
        assert {w["url"] for w in call["webhooks"] if w["kind"] == "callback"} == {APP}

    run_platform(scenario)


async def transfer_to(p: Platform, session_id: str, number: str, **extra: str) -> dict[str, str]:
    """``/callTransfer`` of ``session_id`` to ``number``; AT's answer inside its wrapper."""
    answer = await p.http.post(
        "/callTransfer",
        data={
            "username": DEFAULT_USERNAME,
            "sessionId": session_id,
            "phoneNumber": number,
            **extra,
        },
        headers={"apiKey": "atsim-sandbox-key"},
    )
    assert answer.status_code == 200, answer.text
    outcome: dict[str, str] = answer.json()["callTransferResponse"]
    return outcome


async def bridged(p: Platform, session_id: str) -> str:
    """Let the loop run until ``session_id`` is bridged; whom it is bridged with."""
    for _ in range(20_000):
        peer = p.backend.calls.get(session_id).bridged_with
        if peer is not None:
            return peer
        await asyncio.sleep(0.001)
    raise AssertionError(f"call {session_id} was never bridged")


def test_a_transfer_the_engine_cannot_carry_out_is_aborted_and_not_recorded() -> None:
    """While the first transfer's target rings there is no bridge to move: a second one
    answered Success would be a transfer that never happens."""
    first, second = "+254722555009", "+254722555010"

    async def scenario(p: Platform) -> None:
        await p.wire()
        await p.script(AGENT, hangupAfter=120)
        await p.script(first, hangupAfter=5)
        await p.script(second, hangupAfter=5)
        p.app(answering(xml(f'<Dial phoneNumbers="{AGENT}"/>')))
        (session_id,) = await p.call(USER)
        await bridged(p, session_id)
        assert await transfer_to(p, session_id, first) == {
            "status": "Success",
            "errorMessage": "None",
        }
        refused = await transfer_to(p, session_id, second)
        assert refused["status"] == "Aborted"
        assert refused["errorMessage"].startswith("Call cannot be transferred now: ")
        call = await p.ended(session_id)
        assert [t["phoneNumber"] for t in call["transfers"]] == [first]
        assert [leg["phoneNumber"] for leg in call["outcome"]["legs"]] == [AGENT, first]

    run_platform(scenario, speed="100")


@pytest.mark.parametrize("call_leg", ["callee", "caller"])
def test_a_transfer_of_a_call_bridged_through_a_queue_moves_the_other_call(call_leg: str) -> None:
    """The agent's Dequeue bridged two calls of the platform. ``callee``: the queued caller
    is the replaced party and hangs up with the transfer, not minutes later (billed all the
    while); ``caller``: the agent's leg is replaced, and the queued caller talks on to the
    new number."""
    caller, agent, supervisor = USER, "+254711082370", "+254722555011"

    async def scenario(p: Platform) -> None:
        await p.wire()
        await p.script(caller, hangupAfter=600)
        await p.script(agent, hangupAfter=600)
        await p.script(supervisor, hangupAfter=30)
        waiting = await wait_in_the_queue(p, caller)
        picker = (await p.http.post("/_simulator/calls", json={"from": agent, "to": AT})).json()
        assert await bridged(p, picker["sessionId"]) == waiting["sessionId"]
        outcome = await transfer_to(p, picker["sessionId"], supervisor, callLeg=call_leg)
        assert outcome["status"] == "Success"
        moved, stays = (waiting, picker) if call_leg == "callee" else (picker, waiting)
        ended = await p.ended(moved["sessionId"])
        still = p.backend.calls.get(stays["sessionId"])
        assert still.phase is CallPhase.ACTIVE, ended["outcome"]
        assert p.backend.calls.get(still.bridged_with or "").phone_number == supervisor
        final = webhooks(ended, "callback")[-1]
        assert final["status"] == "Success" and "hangupCause" not in final
        assert ended["outcome"]["hangupCause"] == "NORMAL_CLEARING"
        talked = await p.ended(stays["sessionId"])
        # The supervisor talks 30 s; the moved call ended at the transfer, not 600 s later.
        assert int(final["durationInSeconds"]) < 60
        assert 25 <= int(webhooks(talked, "callback")[-1]["durationInSeconds"]) < 100

    run_platform(scenario, speed="100")
