"""Property tests: any mix of outcomes, digits, hang-ups and app answers gives a well-formed call.

- exactly one final request (``isActive=0``), and it is the last callback;
- events start with ``SessionStarted`` and end with exactly one terminal event;
- durations and costs are consistent: never answered means 0 and 0; otherwise the duration
  is the answered time rounded up and ``amount = rate x duration / 60``.
Plus a rule-based state machine over the pure :class:`CallLifecycle`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from at_voice_kit.contracts.vocabulary import TERMINAL_EVENT_TYPES, EventType
from at_voice_kit.simulator.engine import CallState, RateTable
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.memory import AppAnswer, AppUnreachable
from at_voice_kit.simulator.engine.states import TRANSITIONS, CallLifecycle, IllegalTransition
from tests.simulator.engine.harness import AT_NUMBER, DEFAULT_EPOCH_SHIFT, USER, EngineHarness, xml

AGENT = "+254722555001"
DOCUMENTS = [
    xml("<Say>Hello there, welcome</Say>"),
    xml('<Play url="http://media.test/a.mp3"/>'),
    xml(
        '<GetDigits numDigits="1" timeout="5"><Say>Press a key</Say></GetDigits>',
        "<Say>No input</Say>",
    ),
    xml(
        '<GetDigits finishOnKey="#" timeout="4" callbackUrl="http://app.test/voice"><Play url="http://m.test/p.wav"/></GetDigits>'
    ),
    xml('<Record finishOnKey="#" maxLength="15" playBeep="true"><Say>Speak</Say></Record>'),
    xml("<Record><Say>Speak and hang up</Say></Record>"),
    xml("<Say>Recording</Say><Record/>"),
    xml(f'<Dial phoneNumbers="{AGENT},+254722555002" maxDuration="40"/>', "<Say>Sorry</Say>"),
    xml(f'<Dial phoneNumbers="{AGENT}" sequential="true" record="true"/>'),
    xml("<Redirect>http://app.test/voice</Redirect>"),
    xml("<Reject/>"),
    xml('<Enqueue name="q"/>'),
    xml(f'<Dequeue phoneNumber="{AT_NUMBER}" name="q"/>'),
    xml("<Conference/>"),
    "<Response><Broken></Response>",
    "",
]
FAULTS: list[object] = [
    AppAnswer(500, "oops"),
    AppUnreachable(),
    AppUnreachable("slow", timed_out=True),
]

answers = st.sampled_from([None, *CalleeAnswer])
digit_entries = st.lists(st.text(alphabet="0123456789*#", max_size=5), max_size=4)
replies = st.lists(
    st.one_of(st.sampled_from(DOCUMENTS), st.sampled_from(FAULTS)), min_size=1, max_size=6
)


def scripted_app(replies: list[object]):  # type: ignore[no-untyped-def]
    queue = list(replies)

    def app(form: Mapping[str, str]) -> object:
        if form["isActive"] == "0":
            return "OK"
        reply = queue.pop(0) if queue else ""
        if isinstance(reply, Exception):
            raise reply
        return reply

    return app


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    answer=answers,
    digits=digit_entries,
    hangup_after=st.one_of(st.none(), st.floats(0, 300)),
    agent_answer=answers,
    replies=replies,
    inbound=st.booleans(),
)
def test_any_call_is_well_formed(
    seed: int,
    answer: CalleeAnswer | None,
    digits: list[str],
    hangup_after: float | None,
    agent_answer: CalleeAnswer | None,
    replies: list[object],
    inbound: bool,
) -> None:
    h = EngineHarness(seed=seed)
    script: dict[str, object] = {"digits": digits}
    if answer is not None:
        script["answer"] = answer.value
    if hangup_after is not None:
        script["hangupAfter"] = hangup_after
    h.script(USER, **script)
    if agent_answer is not None:
        h.script(AGENT, answer=agent_answer.value)
    h.app(scripted_app(replies))
    record = h.dial_in() if inbound else h.call()

    callbacks = h.forms(record.session_id)
    finals = [i for i, form in enumerate(callbacks) if form["isActive"] == "0"]
    assert finals == [len(callbacks) - 1]
    assert {form["sessionId"] for form in callbacks} == {record.session_id}
    assert all(form["direction"] == ("Inbound" if inbound else "Outbound") for form in callbacks)
    assert all(form["callerNumber"] == USER for form in callbacks)
    assert all("dtmfDigits" not in form or form["dtmfDigits"] for form in callbacks)

    events = [e["eventType"] for e in h.events(record.session_id)]
    assert events[0] == EventType.SESSION_STARTED
    assert [e for e in events if e in TERMINAL_EVENT_TYPES] == [events[-1]]

    final = callbacks[-1]
    event(f"{final['callSessionState']}/{final['status']}/{record.ending.cause.value}")
    # Every live request says the call's state: Ringing only while AT asks about an inbound
    # call it has not answered; the final request names a cause only if the call never
    # connected (AT's recorded payloads).
    live = [form["callSessionState"] for form in callbacks[:-1]]
    assert set(live[1:]) <= {"Answered"}
    assert set(live[:1]) <= ({"Ringing", "Answered"} if inbound else {"Answered"})
    not_answered = final["callSessionState"] == "NotAnswered"
    assert ("hangupCause" in final) == not_answered
    if not_answered:
        assert final["hangupCause"] == record.ending.cause.value
    duration, amount = int(final["durationInSeconds"]), Decimal(final["amount"])
    answered = events[-1] == EventType.SESSION_ENDED
    assert ("SessionAnswered" in events) == answered
    if not answered:
        assert (duration, amount) == (0, 0)
        if not inbound:
            assert final["callStartTime"] == "None" and len(callbacks) == 1
        return
    assert record.call_start is not None
    elapsed = round((record.ended_at - record.call_start).total_seconds(), 3)
    assert duration == math.ceil(elapsed)
    if hangup_after is not None:
        assert elapsed <= hangup_after + 0.001  # elapsed is rounded to the millisecond
    rate = RateTable().rate_for(USER).per_minute(record.direction)
    assert amount == (rate * duration / 60).quantize(Decimal("0.001"))


def test_harness_epoch_is_used() -> None:
    h = EngineHarness()
    h.script(USER, answer="busy")
    record = h.call(events=False)
    assert record.queued_at == DEFAULT_EPOCH_SHIFT


STATES = list(CallState)


class LifecycleMachine(RuleBasedStateMachine):
    """Random transition attempts never leave the table, ENDED is final, events follow rules."""

    def __init__(self) -> None:
        super().__init__()
        from datetime import datetime, timedelta

        self.t0 = datetime(2025, 1, 1)
        self.step = timedelta(seconds=1)
        self.lifecycle = CallLifecycle(self.t0)
        self.events: list[EventType] = [EventType.SESSION_STARTED]

    @rule(target_state=st.sampled_from(STATES))
    def attempt(self, target_state: CallState) -> None:
        before = self.lifecycle.state
        at = self.lifecycle.history[-1][1] + self.step
        if (before, target_state) in TRANSITIONS:
            event = self.lifecycle.advance(target_state, at)
            if event is not None:
                self.events.append(event)
            assert self.lifecycle.state is target_state
        else:
            try:
                self.lifecycle.advance(target_state, at)
            except IllegalTransition:
                assert self.lifecycle.state is before
            else:
                raise AssertionError(f"{before} -> {target_state} should be illegal")

    @invariant()
    def events_are_well_formed(self) -> None:
        assert self.events[0] is EventType.SESSION_STARTED
        terminal = [e for e in self.events if e in TERMINAL_EVENT_TYPES]
        assert len(terminal) == (1 if self.lifecycle.ended else 0)
        if self.lifecycle.ended:
            assert self.events[-1] is terminal[0]
            expected = (
                EventType.SESSION_ENDED if self.lifecycle.was_answered else EventType.SESSION_FAILED
            )
            assert terminal[0] is expected

    @invariant()
    def history_is_ordered(self) -> None:
        times = [at for _, at in self.lifecycle.history]
        assert times == sorted(times)
        assert self.lifecycle.history[-1][0] is self.lifecycle.state


TestLifecycle = LifecycleMachine.TestCase
TestLifecycle.settings = settings(max_examples=200, stateful_step_count=20, deadline=None)
