"""Whole calls: answered and unanswered outbound calls, inbound calls, callback timing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from at_voice_kit.contracts.wire import parse_call_start_time
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.engine import InvalidCallRequest
from tests.simulator.engine.harness import AT_NUMBER, USER, EngineHarness, answering, xml

BASE_KEYS = [
    "isActive", "sessionId", "direction", "callerNumber", "destinationNumber",
    "callerCountryCode", "callerCarrierName", "callStartTime",
]  # fmt: skip
LIVE_KEYS = [*BASE_KEYS, "callSessionState"]
ANSWERED_FINAL_KEYS = [
    *BASE_KEYS, "durationInSeconds", "currencyCode", "amount", "callSessionState", "status",
]  # fmt: skip
FINAL_KEYS = [*ANSWERED_FINAL_KEYS, "hangupCause"]


def test_answered_call_posts_first_request_then_final() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered")
    h.app(answering(xml("<Say>Hello, thank you for calling.</Say>")))
    record = h.call()
    first, final = h.forms(record.session_id)
    assert list(first) == LIVE_KEYS
    assert first["isActive"] == "1" and first["callSessionState"] == "Answered"
    assert first["direction"] == "Outbound"
    assert first["callerNumber"] == USER and first["destinationNumber"] == AT_NUMBER
    assert first["callerCountryCode"] == "254" and first["callerCarrierName"] == "Safaricom"
    # An answered call's final request carries no hangupCause (recorded AT payloads have
    # none); its events do.
    assert list(final) == ANSWERED_FINAL_KEYS
    assert final["isActive"] == "0"
    assert (final["callSessionState"], final["status"]) == ("Completed", "Success")
    assert h.events(record.session_id)[-1]["hangupCause"] == "NORMAL_CLEARING"
    assert final["callStartTime"] == first["callStartTime"] != "None"
    assert record.end_reason == "no more actions: AT hung up"


@pytest.mark.parametrize(
    ("answer", "causes", "status"),
    [
        ("busy", {"USER_BUSY"}, "NotAnswered"),
        ("no-answer", {"NO_ANSWER", "NO_USER_RESPONSE", "RECOVERY_ON_TIMER_EXPIRE"}, "NotAnswered"),
        ("rejected", {"CALL_REJECTED"}, "NotAnswered"),
        ("unreachable", {"SUBSCRIBER_ABSENT", "UNALLOCATED_NUMBER"}, "NotAnswered"),
        ("failed", {"NORMAL_TEMPORARY_FAILURE", "SERVICE_UNAVAILABLE", "UNSPECIFIED"}, "Aborted"),
    ],
)
def test_never_answered_call_sends_one_final_request(
    answer: str, causes: set[str], status: str
) -> None:
    h = EngineHarness()
    h.script(USER, answer=answer)
    h.app(answering(xml("<Say>never heard</Say>")))
    record = h.call()
    (final,) = h.forms(record.session_id)
    # The fields of AT's documented example, and nothing about dialling or recording.
    assert set(final) == set(FINAL_KEYS)
    assert final["isActive"] == "0"
    assert final["callSessionState"] == "NotAnswered"
    assert final["status"] == status
    assert final["hangupCause"] in causes
    assert final["durationInSeconds"] == "0"
    assert final["amount"] == "0"
    assert final["currencyCode"] == "KES"
    assert final["callStartTime"] == "None"
    events = [e["eventType"] for e in h.events(record.session_id)]
    assert events[0] == "SessionStarted" and events[-1] == "SessionFailed"
    assert ("SessionRinging" in events) == (answer not in ("unreachable", "failed"))
    assert "SessionAnswered" not in events


def test_no_more_actions_bills_the_answered_seconds() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered")
    h.app(answering(xml("<Say>" + "word " * 60 + "</Say>")))
    record = h.call()
    final = h.forms(record.session_id)[-1]
    start = parse_call_start_time(final["callStartTime"])
    assert start == record.call_start.replace(microsecond=0)
    duration = int(final["durationInSeconds"])
    elapsed = (record.ended_at - record.call_start).total_seconds()
    assert duration - 1 < elapsed <= duration
    # 300 characters at 14 a second: about 22 s of speech.
    assert 21 <= duration <= 24
    assert final["amount"] == f"{3 * duration / 60:.3f}"  # KES 3.00 a minute, per second


def test_callee_hangup_after_ends_the_call_mid_flow() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered", hangupAfter=5)
    h.app(answering(xml("<Say>" + "a long message " * 40 + "</Say>", "<Say>never reached</Say>")))
    record = h.call()
    final = h.forms(record.session_id)[-1]
    assert final["durationInSeconds"] == "5"
    assert "hangupCause" not in final and record.ending.cause.value == "NORMAL_CLEARING"
    assert final["status"] == "Success"
    assert record.end_reason == "the phone user hung up"
    assert record.ended_at - record.call_start == timedelta(seconds=5)


def test_unscripted_calls_draw_every_outcome_from_the_distribution() -> None:
    h = EngineHarness(seed="spread")
    h.app(answering(xml("<Say>Hi</Say>")))

    async def many(engine):  # type: ignore[no-untyped-def]
        import asyncio

        calls = [engine.place_call(USER, AT_NUMBER, "http://app.test/voice") for _ in range(400)]
        return await asyncio.gather(*(c.result() for c in calls))

    records = h.run(many)  # type: ignore[arg-type]
    causes = {r.ending.cause.value for r in records}
    answered = sum(r.call_start is not None for r in records)
    assert 0.6 < answered / 400 < 0.85
    assert {"NORMAL_CLEARING", "USER_BUSY", "CALL_REJECTED", "NO_ANSWER"} <= causes
    assert {"SUBSCRIBER_ABSENT", "UNALLOCATED_NUMBER"} & causes


def test_inbound_call_callbacks_have_phone_user_as_caller() -> None:
    h = EngineHarness()
    h.app(answering(xml("<Say>Welcome</Say>")))
    record = h.dial_in()
    first, final = h.forms(record.session_id)
    assert first["direction"] == final["direction"] == "Inbound"
    assert first["callerNumber"] == USER and first["destinationNumber"] == AT_NUMBER
    assert first["callStartTime"] != "None"
    # AT asks the app before it answers an inbound call.
    assert first["callSessionState"] == "Ringing"
    assert "hangupCause" not in final and record.ending.cause.value == "NORMAL_CLEARING"
    assert int(final["durationInSeconds"]) > 0
    assert record.amount == f"{1.5 * record.duration_seconds / 60:.3f}"  # inbound rate
    events = [e["eventType"] for e in h.events(record.session_id)]
    assert events == ["SessionStarted", "SessionRinging", "SessionAnswered", "SessionEnded"]


def test_inbound_script_answer_is_ignored() -> None:
    h = EngineHarness()
    h.script(USER, answer="busy")
    h.app(answering(xml("<Say>Welcome</Say>")))
    record = h.dial_in()
    assert record.ending.cause.value == "NORMAL_CLEARING"


def test_inbound_reject_ends_the_call_free_and_unanswered() -> None:
    h = EngineHarness()
    h.app(answering(xml("<Reject/>")))
    record = h.dial_in()
    first, final = h.forms(record.session_id)
    assert first["isActive"] == "1"
    assert final["hangupCause"] == "CALL_REJECTED"
    assert final["callSessionState"] == "NotAnswered"
    assert final["durationInSeconds"] == "0" and final["amount"] == "0"
    assert [e["eventType"] for e in h.events(record.session_id)][-1] == "SessionFailed"


def test_inbound_caller_hanging_up_before_pickup_is_originator_cancel() -> None:
    h = EngineHarness()
    h.script(USER, hangupAfter=0)
    h.app(answering(xml("<Say>Welcome</Say>")))
    record = h.dial_in()
    final = h.forms(record.session_id)[-1]
    assert final["hangupCause"] == "ORIGINATOR_CANCEL"
    assert final["amount"] == "0"


def test_client_request_id_reaches_events_not_callbacks() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered")
    h.app(answering(xml("<Say>Hi</Say>")))
    record = h.call(client_request_id="order-42")
    assert all("clientRequestId" not in f for f in h.forms(record.session_id))
    assert {e["clientRequestId"] for e in h.events(record.session_id)} == {"order-42"}


def test_other_markets_bill_in_their_currency() -> None:
    h = EngineHarness()
    uganda = "+256772123456"
    h.script(uganda, answer="answered")
    h.app(answering(xml("<Say>Oli otya</Say>")))
    record = h.call(uganda)
    final = h.forms(record.session_id)[-1]
    assert final["currencyCode"] == "UGX"
    assert final["callerCountryCode"] == "256"
    assert final["callerCarrierName"] == "MTN"


def test_callee_answer_values_cover_the_table() -> None:
    assert {a.value for a in CalleeAnswer} == {
        "answered", "busy", "no-answer", "rejected", "unreachable", "failed",
    }  # fmt: skip


def test_a_call_runs_on_scaled_real_time() -> None:
    import asyncio

    from at_voice_kit.simulator.engine import CallEngine, EnginePorts, RealClock

    h = EngineHarness()
    h.script(USER, answer="answered", digits=["3"])
    h.app(
        answering(
            xml('<GetDigits numDigits="1"><Say>Press</Say></GetDigits>'), xml("<Say>Ok</Say>")
        )
    )
    ports = EnginePorts(h.apps, h.journal, h.queues, h.callees, h.recordings)
    engine = CallEngine(ports, clock=RealClock(speed=20_000.0), seed=4)

    async def main() -> object:
        return await engine.place_call(USER, AT_NUMBER, "http://app.test/voice").result()

    record = asyncio.run(main())
    forms = h.forms(record.session_id)  # type: ignore[attr-defined]
    assert [f["isActive"] for f in forms] == ["1", "1", "0"]
    assert forms[1]["dtmfDigits"] == "3"
    assert int(forms[-1]["durationInSeconds"]) >= 1


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("callbackUrl", "http://[::1/voice"),  # urlsplit raised a bare ValueError
        ("callbackUrl", "http://app:99999/voice"),
        ("callbackUrl", "http://app:port/voice"),
        ("callbackUrl", "http://:8000/voice"),
        ("eventsUrl", "http://[zz]/events"),
        ("callbackUrl", "ftp://app/voice"),
    ],
)
def test_a_url_no_http_client_can_use_is_an_invalid_call_request(field: str, url: str) -> None:
    engine = EngineHarness().engine()
    callback, events = (url, None) if field == "callbackUrl" else ("http://app.test/v", url)
    with pytest.raises(InvalidCallRequest) as refused:
        engine.place_call(USER, AT_NUMBER, callback, events_url=events)
    assert refused.value.field == field
    assert engine.live_calls() == []
