"""Deterministic outcomes: a callee script's ``hangupCause`` is the cause the call ends with.

Without one, an unanswered phone ends with one of three causes drawn at random; a test of
"my app handles NO_ANSWER" needs exactly NO_ANSWER, on every seed.
"""

from __future__ import annotations

import pytest

from at_voice_kit.contracts.vocabulary import HangupCause
from at_voice_kit.simulator.engine.callee import (
    CAUSES_OF_ANSWER,
    CalleeAnswer,
    CalleeScript,
    InvalidCalleeScript,
)
from at_voice_kit.simulator.engine.outcomes import DEFAULT_RULES, SIP_UNREACHABLE_CAUSE
from tests.simulator.engine.harness import USER, EngineHarness, answering, xml

SEEDS = range(12)


@pytest.mark.parametrize(
    ("answer", "cause"),
    [(answer, cause) for answer, causes in CAUSES_OF_ANSWER.items() for cause in causes],
)
def test_every_scriptable_cause_ends_an_outbound_call_exactly(
    answer: CalleeAnswer, cause: HangupCause
) -> None:
    endings = set()
    for seed in SEEDS:
        h = EngineHarness(seed=seed)
        h.script(USER, answer=answer.value, hangupCause=cause.value, hangupAfter=5)
        h.app(answering(xml("<Say>Hello</Say>")))
        record = h.call()
        endings.add(record.ending.cause)
    expected = HangupCause.NORMAL_CLEARING if answer is CalleeAnswer.ANSWERED else cause
    assert endings == {expected}


def test_without_a_cause_the_unanswered_outcome_is_drawn_among_three() -> None:
    causes = set()
    for seed in range(60):
        h = EngineHarness(seed=seed)
        h.script(USER, answer="no-answer")
        causes.add(h.call(events=False).ending.cause)
    assert causes == set(CAUSES_OF_ANSWER[CalleeAnswer.NO_ANSWER])


def test_a_dialled_leg_ends_with_its_scripted_cause() -> None:
    for seed in SEEDS:
        h = EngineHarness(seed=seed)
        h.script(USER, answer="answered")
        h.script("+254733100200", hangupCause="NO_USER_RESPONSE")
        h.app(answering(xml('<Dial phoneNumbers="+254733100200"/><Say>Nobody</Say>')))
        record = h.call(events=False)
        (leg,) = record.legs
        assert leg.cause is HangupCause.NO_USER_RESPONSE


def test_the_cause_alone_says_how_the_phone_reacted() -> None:
    script = CalleeScript.from_json({"hangupCause": "USER_BUSY"})
    assert (script.answer, script.hangup_cause) == (CalleeAnswer.BUSY, HangupCause.USER_BUSY)
    assert CalleeScript.from_json(script.to_json()) == script


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ({"answer": "busy", "hangupCause": "NO_ANSWER"}, "NO_ANSWER goes with answer 'no-answer'"),
        ({"answer": "answered", "hangupCause": "USER_BUSY"}, "not 'answered'"),
        ({"hangupCause": "LOSE_RACE"}, "LOSE_RACE cannot be scripted"),
        ({"hangupCause": "ORIGINATOR_CANCEL"}, "ORIGINATOR_CANCEL cannot be scripted"),
        ({"hangupCause": "INVALID_NUMBER"}, "must be one of AT's 14 hangup causes"),
        ({"hangupCause": 17}, "must be one of AT's 14 hangup causes"),
    ],
)
def test_impossible_causes_are_refused_naming_the_field(data: object, rule: str) -> None:
    with pytest.raises(InvalidCalleeScript) as caught:
        CalleeScript.from_json(data)
    assert caught.value.field == "hangupCause"
    assert rule in caught.value.rule


def test_the_allowed_causes_are_exactly_the_ones_the_engine_draws() -> None:
    drawn = {rule.answer: {cause for cause, _ in rule.causes} for rule in DEFAULT_RULES}
    drawn[CalleeAnswer.UNREACHABLE].add(SIP_UNREACHABLE_CAUSE)
    assert drawn == {answer: set(causes) for answer, causes in CAUSES_OF_ANSWER.items()}
    scriptable = {cause for causes in CAUSES_OF_ANSWER.values() for cause in causes}
    assert set(HangupCause) - scriptable == {HangupCause.LOSE_RACE, HangupCause.ORIGINATOR_CANCEL}
