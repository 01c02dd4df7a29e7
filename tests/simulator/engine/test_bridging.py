"""Dial (parallel, sequential, recorded, capped), Enqueue/Dequeue, and /callTransfer."""

from __future__ import annotations

import asyncio

from at_voice_kit.contracts.wire import parse_call_start_time
from at_voice_kit.simulator.engine import CallEngine, CallState, TransferOutcome
from at_voice_kit.simulator.engine.records import CallRecord
from tests.simulator.engine.harness import (
    APP,
    AT_NUMBER,
    EVENTS,
    USER,
    EngineHarness,
    answering,
    xml,
)

AGENT_1, AGENT_2, AGENT_3 = "+254722000001", "+254722000002", "+254722000003"


def dialling(numbers: str, attributes: str = "", after: str = "") -> EngineHarness:
    h = EngineHarness()
    h.script(USER, answer="answered")
    h.app(answering(xml(f'<Dial phoneNumbers="{numbers}" {attributes}/>', after)))
    return h


def test_parallel_dial_connects_the_first_to_answer_and_losers_lose_the_race() -> None:
    h = dialling(f"{AGENT_1},{AGENT_2},{AGENT_3}")
    h.script(AGENT_1, answer="answered", hangupAfter=30)
    h.script(AGENT_2, answer="answered", hangupAfter=30)
    h.script(AGENT_3, answer="busy")
    record = h.call()
    legs = {leg.number: leg for leg in record.legs}
    winner = min((legs[AGENT_1], legs[AGENT_2]), key=lambda leg: leg.ring_seconds)
    loser = legs[AGENT_2] if winner is legs[AGENT_1] else legs[AGENT_1]
    assert winner.connected
    assert loser.cause is not None and loser.cause.value == "LOSE_RACE"
    busy = legs[AGENT_3]
    assert busy.cause is not None
    assert busy.cause.value in ("USER_BUSY", "LOSE_RACE")  # busy before the pick-up, or not
    final = h.forms(record.session_id)[-1]
    assert final["dialDestinationNumber"] == winner.number
    assert final["dialDurationInSeconds"] == "30"
    dial_start = parse_call_start_time(final["dialStartTime"])
    call_start = parse_call_start_time(final["callStartTime"])
    assert dial_start is not None and call_start is not None and dial_start >= call_start
    assert "hangupCause" not in final and record.ending.cause.value == "NORMAL_CLEARING"
    assert record.end_reason.startswith("the dialled party hung up")


def test_sequential_dial_rings_in_order_until_someone_answers() -> None:
    h = dialling(f"{AGENT_1},{AGENT_2},{AGENT_3}", 'sequential="true"')
    h.script(AGENT_1, answer="no-answer")
    h.script(AGENT_2, answer="answered", hangupAfter=12)
    h.script(AGENT_3, answer="answered")
    record = h.call()
    assert [leg.number for leg in record.legs] == [AGENT_1, AGENT_2]  # the third never rang
    assert record.legs[0].cause is not None and record.legs[0].cause.value == "NO_ANSWER"
    assert record.legs[1].connected
    assert h.forms(record.session_id)[-1]["dialDestinationNumber"] == AGENT_2


def test_dial_nobody_answers_runs_the_next_action_without_dial_fields() -> None:
    h = dialling(AGENT_1, after="<Say>Nobody is available</Say>")
    h.script(AGENT_1, answer="busy")
    record = h.call()
    final = h.forms(record.session_id)[-1]
    assert "dialDestinationNumber" not in final
    assert any("Say" in line for _, line in record.timeline)
    assert record.end_reason == "no more actions: AT hung up"


def test_dial_max_duration_and_record() -> None:
    h = dialling(AGENT_1, 'record="true" maxDuration="20"')
    h.script(AGENT_1, answer="answered", hangupAfter=300)
    record = h.call()
    final = h.forms(record.session_id)[-1]
    assert final["dialDurationInSeconds"] == "20"
    assert final["recordingUrl"] == record.recording_urls[0]
    assert h.recordings.for_session(record.session_id)[0].seconds == 20


def test_caller_hanging_up_while_dial_rings_cancels_the_legs() -> None:
    h = dialling(f"{AGENT_1},{AGENT_2}")
    h.script(USER, answer="answered", hangupAfter=1)
    h.script(AGENT_1, answer="no-answer")
    h.script(AGENT_2, answer="no-answer")
    record = h.call()
    assert {leg.cause.value for leg in record.legs if leg.cause} == {"ORIGINATOR_CANCEL"}
    assert record.ending.cause.value == "NORMAL_CLEARING"


def test_unreachable_sip_leg_is_not_registered() -> None:
    sip = "agent7@ke.sip.africastalking.com"
    h = dialling(sip)
    h.script(sip, answer="unreachable")
    record = h.call()
    assert record.legs[0].cause is not None
    assert record.legs[0].cause.value == "USER_NOT_REGISTERED"


def run_with(h: EngineHarness, scenario) -> object:  # type: ignore[no-untyped-def]
    async def main() -> object:
        return await scenario(h.engine())

    return asyncio.run(main())


def test_enqueue_and_dequeue_connect_two_calls() -> None:
    h = EngineHarness()
    caller, agent = "+254733000111", "+254733000222"
    h.script(caller, answer="answered")
    h.script(agent, answer="answered")
    h.app(
        answering(
            xml('<Say>Please hold</Say><Enqueue name="support" holdMusic="http://m.test/h.mp3"/>')
        )
    )
    agent_app = "http://app.test/agent"
    h.app(answering(xml(f'<Dequeue phoneNumber="{AT_NUMBER}" name="support"/>')), agent_app)
    sizes: list[dict[str, int]] = []

    async def scenario(engine: CallEngine) -> tuple[CallRecord, CallRecord]:
        queued = engine.place_call(caller, AT_NUMBER, APP, events_url=EVENTS)
        while queued.state is not CallState.ENQUEUED:
            await asyncio.sleep(0)
        sizes.append(dict(h.queues.sizes(AT_NUMBER)))
        agent_call = engine.dial_in(agent, AT_NUMBER, agent_app)
        return await queued.result(), await agent_call.result()

    queued_record, agent_record = run_with(h, scenario)  # type: ignore[misc]
    assert sizes == [{"support": 1}]
    assert h.queues.sizes(AT_NUMBER) == {}
    assert queued_record.ended_at == agent_record.ended_at  # one conversation, one end
    events = [e["eventType"] for e in h.events(queued_record.session_id)]
    assert events == [
        "SessionStarted", "SessionRinging", "SessionAnswered", "SessionQueued", "SessionEnded",
    ]  # fmt: skip
    assert any(agent in line for _, line in queued_record.timeline)


def test_dequeue_on_an_empty_queue_hangs_up() -> None:
    h = EngineHarness()
    h.app(answering(xml(f'<Dequeue phoneNumber="{AT_NUMBER}" name="support"/>')))
    record = h.dial_in()
    assert record.end_reason == "Dequeue found the queue empty: AT hung up"


def test_enqueued_caller_gives_up_and_leaves_the_queue() -> None:
    h = EngineHarness()
    h.script(USER, answer="answered", hangupAfter=60)
    h.app(answering(xml("<Enqueue/>")))
    record = h.call()
    assert record.end_reason == "the caller hung up while waiting in the queue"
    assert h.queues.sizes(AT_NUMBER) == {}
    assert record.duration_seconds <= 60


def test_transfer_moves_the_callee_leg_to_a_new_number() -> None:
    h = dialling(AGENT_1)
    h.script(AGENT_1, answer="answered", hangupAfter=600)
    h.script(AGENT_2, answer="answered", hangupAfter=45)
    outcomes = []

    async def scenario(engine: CallEngine) -> CallRecord:
        call = engine.place_call(USER, AT_NUMBER, APP, events_url=EVENTS)
        outcomes.append(engine.transfer(call.session_id, AGENT_2))  # not bridged yet
        while call.state is not CallState.BRIDGED:
            await asyncio.sleep(0)
        outcomes.append(engine.transfer(call.session_id, AGENT_2, "sideways"))
        outcomes.append(engine.transfer(call.session_id, AGENT_2))
        return await call.result()

    record = run_with(h, scenario)
    assert isinstance(record, CallRecord)
    assert [o.status for o in outcomes] == ["Aborted", "Aborted", "Success"]
    assert outcomes[1].error_message == "callLeg must be 'caller' or 'callee'"
    final = h.forms(record.session_id)[-1]
    assert final["dialDestinationNumber"] == AGENT_2
    assert final["dialDurationInSeconds"] == "45"
    events = h.events(record.session_id)
    transferred = [e for e in events if e["eventType"] == "SessionTransferred"]
    assert len(transferred) == 1 and transferred[0]["dialDestinationNumber"] == AGENT_2
    assert events[-1]["eventType"] == "SessionEnded"
    assert [leg.number for leg in record.legs] == [AGENT_1, AGENT_2]


def test_transfer_of_an_unknown_session_is_aborted() -> None:
    h = EngineHarness()

    async def scenario(engine: CallEngine) -> object:
        return engine.transfer("ATVId_" + "0" * 32, AGENT_2)

    outcome = run_with(h, scenario)
    assert isinstance(outcome, TransferOutcome) and outcome.status == "Aborted"


def test_transfer_of_the_caller_leg_ends_the_phone_users_session() -> None:
    h = dialling(AGENT_1)
    h.script(AGENT_1, answer="answered", hangupAfter=600)

    async def scenario(engine: CallEngine) -> CallRecord:
        call = engine.place_call(USER, AT_NUMBER, APP)
        while call.state is not CallState.BRIDGED:
            await asyncio.sleep(0)
        assert engine.transfer(call.session_id, AGENT_2, "caller").ok
        return await call.result()

    record = run_with(h, scenario)
    assert isinstance(record, CallRecord)
    assert record.end_reason == f"the caller leg was transferred to {AGENT_2}"
    assert h.forms(record.session_id)[-1]["dialDestinationNumber"] == AGENT_1
