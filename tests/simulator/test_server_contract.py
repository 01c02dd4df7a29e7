"""At the server level (``/call`` and ``POST /_simulator/calls`` through the simulator's app,
its backend, network and journal), over seeds, callee scripts and app answers: every request
the simulator sends validates against the request schemas of ``contracts/service.yaml``,
events start with ``SessionStarted`` and end with one terminal event, and there is exactly
one final callback, the last one."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from at_voice_kit.contracts.service_contract import form_rules
from at_voice_kit.contracts.vocabulary import TERMINAL_EVENT_TYPES, EventType
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.memory import AppAnswer, AppUnreachable
from tests.simulator.engine.test_call_properties import scripted_app
from tests.simulator.engine.test_contract import violations
from tests.simulator.platform_harness import AT, Platform, run_platform, webhooks, xml

USER = "+254711082369"
AGENT = "+254722555001"
DOCUMENTS = [
    xml("<Say>Welcome to the shop</Say>"),
    xml(
        '<GetDigits numDigits="1" timeout="5"><Say>Press a key</Say></GetDigits>', "<Say>Bye</Say>"
    ),
    xml('<GetDigits finishOnKey="#" timeout="4"><Play url="http://m.test/p.wav"/></GetDigits>'),
    xml('<Record finishOnKey="#" maxLength="15" playBeep="true"><Say>Speak</Say></Record>'),
    xml("<Say>Recording</Say><Record/>"),
    xml(f'<Dial phoneNumbers="{AGENT},+254722555002" record="true" maxDuration="30"/>'),
    xml('<Enqueue name="q"/>'),
    xml("<Redirect>http://app.test/voice</Redirect>"),
    xml("<Reject/>"),
    "<Response><Broken></Response>",
    "",
]
REPLIES = st.lists(
    st.one_of(
        st.sampled_from(DOCUMENTS),
        st.sampled_from([AppAnswer(500, "oops"), AppUnreachable(), AppAnswer(404, "")]),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    answer=st.sampled_from([None, *CalleeAnswer]),
    digits=st.lists(st.text(alphabet="0123456789*#", max_size=4), max_size=3),
    hangup_after=st.one_of(st.none(), st.floats(1, 200)),
    agent_answer=st.sampled_from([None, *CalleeAnswer]),
    replies=REPLIES,
    inbound=st.booleans(),
    duplicate=st.sampled_from([0.0, 0.5]),
)
def test_every_request_the_server_sends_keeps_the_service_contract(
    seed: int,
    answer: CalleeAnswer | None,
    digits: list[str],
    hangup_after: float | None,
    agent_answer: CalleeAnswer | None,
    replies: list[object],
    inbound: bool,
    duplicate: float,
) -> None:
    checked: list[dict[str, object]] = []

    async def scenario(p: Platform) -> None:
        await p.wire()
        await p.admin("PUT", "event-faults", {"duplicateProbability": duplicate})
        script: dict[str, object] = {"digits": digits, "hangupAfter": hangup_after}
        if answer is not None:  # None: nobody scripted the phone user's answer
            await p.admin("PUT", f"callees/{USER}", {"answer": answer.value, **script})
        if agent_answer is not None:
            await p.admin("PUT", f"callees/{AGENT}", {"answer": agent_answer.value})
        p.app(scripted_app(replies))
        if inbound:
            started = await p.http.post("/_simulator/calls", json={"from": USER, "to": AT})
            session_id = started.json()["sessionId"]
        else:
            (session_id,) = await p.call(USER)
        checked.append(await p.ended(session_id))

    run_platform(scenario, seed=seed)
    (call,) = checked
    callback_rules, event_rules = form_rules("CallbackForm"), form_rules("EventForm")
    callbacks, events = webhooks(call, "callback"), webhooks(call, "event")
    for form in callbacks:
        assert violations(form, callback_rules) == [], form
    for form in events:
        assert violations(form, event_rules) == [], form
    assert [i for i, f in enumerate(callbacks) if f["isActive"] == "0"] == [len(callbacks) - 1]
    kinds = [form["eventType"] for form in events]
    assert kinds[0] == EventType.SESSION_STARTED
    terminal = [kind for kind in kinds if kind in TERMINAL_EVENT_TYPES]
    assert set(terminal) == {kinds[-1]}  # one terminal event (posted twice if duplicated)
    assert len(terminal) <= (2 if duplicate else 1)
    final = callbacks[-1]
    cause = call["outcome"]["hangupCause"]
    event(f"{len(callbacks)} callbacks, {final['status']}/{cause}")
    # Only a call that never connected names its cause in the final request (AT's payloads).
    if final["callSessionState"] == "NotAnswered":
        assert final["hangupCause"] == cause
    else:
        assert "hangupCause" not in final
    assert final["amount"] == call["outcome"]["amount"]
