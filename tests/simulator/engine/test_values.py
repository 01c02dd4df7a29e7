"""The engine's data: callee scripts, outcome table, rates, timing, payload builders."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from at_voice_kit.contracts.vocabulary import CallSessionState, CallStatus, Direction, HangupCause
from at_voice_kit.contracts.wire import CallStartTimeSeparator
from at_voice_kit.simulator.engine import BillingMode, CalleeScript, InvalidCalleeScript, RateTable
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.outcomes import DEFAULT_OUTCOMES, DEFAULT_RULES
from at_voice_kit.simulator.engine.payloads import (
    CallFacts,
    Settlement,
    final_fields,
    whole_seconds,
)
from at_voice_kit.simulator.engine.timing import TimingModel


def test_callee_script_from_json() -> None:
    script = CalleeScript.from_json(
        {"answer": "answered", "digits": ["1", "2#"], "hangupAfter": 40}
    )
    assert script == CalleeScript(CalleeAnswer.ANSWERED, ("1", "2#"), 40.0)
    assert CalleeScript.from_json(script.to_json()) == script
    assert CalleeScript.from_json({}) == CalleeScript()


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        ([], "(body)", "must be a JSON object"),
        ({"answer": "maybe"}, "answer", "must be one of"),
        ({"answer": 1}, "answer", "must be one of"),
        ({"digits": "12#"}, "digits", "must be a list"),
        ({"digits": ["1", 2]}, "digits[1]", "must be a string"),
        ({"digits": ["1a"]}, "digits[0]", "may contain only the keys 0-9, * and #"),
        ({"hangupAfter": "10"}, "hangupAfter", "must be a number of seconds"),
        ({"hangupAfter": True}, "hangupAfter", "must be a number of seconds"),
        ({"hangupAfter": -1}, "hangupAfter", "between 0 and"),
        ({"hangupAfter": float("nan")}, "hangupAfter", "between 0 and"),
        ({"speechSeconds": 1e9}, "speechSeconds", "between 0 and"),
        ({"anwser": "busy"}, "anwser", "is not a callee script field"),
    ],
)
def test_callee_script_errors_name_the_field(data: object, field: str, rule: str) -> None:
    with pytest.raises(InvalidCalleeScript) as caught:
        CalleeScript.from_json(data)
    assert caught.value.field == field
    assert rule in caught.value.rule
    assert str(caught.value).startswith(f"{field}: ")


@given(
    st.dictionaries(
        st.text(max_size=8), st.one_of(st.none(), st.integers(), st.text(), st.lists(st.text()))
    )
)
def test_callee_script_rejects_or_accepts_any_json_cleanly(data: dict[str, object]) -> None:
    try:
        script = CalleeScript.from_json(data)
    except InvalidCalleeScript as exc:
        assert exc.field and exc.rule
    else:
        assert CalleeScript.from_json(script.to_json()) == script


def test_outcome_table_covers_every_answer_with_real_hangup_causes() -> None:
    assert {rule.answer for rule in DEFAULT_RULES} == set(CalleeAnswer)
    assert sum(rule.share for rule in DEFAULT_RULES) == pytest.approx(1.0)
    for rule in DEFAULT_RULES:
        for cause, weight in rule.causes:
            assert isinstance(cause, HangupCause) and weight > 0
    answered = DEFAULT_OUTCOMES.rule(CalleeAnswer.ANSWERED)
    assert (answered.state, answered.status) == (CallSessionState.COMPLETED, CallStatus.SUCCESS)
    busy = DEFAULT_OUTCOMES.rule(CalleeAnswer.BUSY)
    assert busy.causes == ((HangupCause.USER_BUSY, 1.0),)


def test_outcome_draws_are_reproducible_and_configurable() -> None:
    draws = [DEFAULT_OUTCOMES.draw_answer(random.Random(7)) for _ in range(3)]
    assert len(set(draws)) == 1
    only_busy = DEFAULT_OUTCOMES.with_shares(
        {a: 0.0 for a in CalleeAnswer if a is not CalleeAnswer.BUSY}
    )
    rng = random.Random(1)
    assert {only_busy.draw_answer(rng) for _ in range(50)} == {CalleeAnswer.BUSY}
    with pytest.raises(ValueError, match="at least one answer"):
        DEFAULT_OUTCOMES.with_shares({a: 0.0 for a in CalleeAnswer})
    assert (
        DEFAULT_OUTCOMES.draw_cause(CalleeAnswer.UNREACHABLE, rng, sip=True)
        is HangupCause.USER_NOT_REGISTERED
    )


@pytest.mark.parametrize(
    ("number", "currency", "seconds", "amount"),
    [
        ("+254711082369", "KES", 60, "3.000"),
        ("+254711082369", "KES", 7, "0.350"),
        ("+256772123456", "UGX", 30, "90.000"),
        ("+2348031234567", "NGN", 61, "25.417"),
        ("+255754123456", "TZS", 1, "1.500"),
        ("+14155552671", "USD", 60, "0.100"),  # not an AT market: the fallback rate
    ],
)
def test_per_second_billing(number: str, currency: str, seconds: int, amount: str) -> None:
    charge = RateTable().charge(number, Direction.OUTBOUND, seconds)
    assert (charge.currency, charge.wire_amount, charge.billed_seconds) == (
        currency,
        amount,
        seconds,
    )


def test_per_minute_billing_and_free_calls() -> None:
    table = RateTable(billing=BillingMode.PER_MINUTE)
    charge = table.charge("+254711082369", Direction.OUTBOUND, 61)
    assert (charge.billed_seconds, charge.wire_amount) == (120, "6.000")
    assert table.free("+254711082369").wire_amount == "0"
    assert table.charge("+254711082369", Direction.INBOUND, 60).amount == Decimal("1.500")


def test_say_duration_is_proportional_to_text() -> None:
    timing = TimingModel()
    assert timing.say_seconds("a" * 140) == pytest.approx(10.4)
    assert timing.say_seconds("a" * 140, beep=True) == pytest.approx(10.9)
    assert timing.say_seconds("  spaced   out  ") == timing.say_seconds("spaced out")


def test_whole_seconds_counts_every_started_second() -> None:
    start = datetime(2025, 1, 1, 0, 0, 0)
    assert whole_seconds(start, datetime(2025, 1, 1, 0, 0, 10)) == 10
    assert whole_seconds(start, datetime(2025, 1, 1, 0, 0, 10, 1000)) == 11
    assert whole_seconds(start, start) == 0


AT_NOT_ANSWERED_EXAMPLE = (
    "callSessionState=NotAnswered&hangupCause=USER_BUSY&direction=Outbound&callerCountryCode=254"
    "&durationInSeconds=0&amount=0&callerNumber=%2B254705336634&destinationNumber=%2B254711082369"
    "&status=NotAnswered&sessionId=ATVId_b1782591735cb0a658b2c0da6cdb2abf&callStartTime=None"
    "&isActive=0&currencyCode=KES"
)


def test_final_fields_match_at_documented_not_answered_example() -> None:
    facts = CallFacts(
        "ATVId_b1782591735cb0a658b2c0da6cdb2abf", Direction.OUTBOUND, "+254705336634",
        "+254711082369", "254", "Safaricom",
    )  # fmt: skip
    ending = DEFAULT_OUTCOMES.ending(CalleeAnswer.BUSY, HangupCause.USER_BUSY)
    fields = dict(
        final_fields(
            facts,
            Settlement(ending, 0, RateTable().free("+254705336634")),
            CallStartTimeSeparator.PLUS,
        )
    )
    documented = dict(parse_qsl(AT_NOT_ANSWERED_EXAMPLE))
    assert {k: v for k, v in fields.items() if k in documented} == documented
    assert set(fields) - set(documented) == {"callerCarrierName"}
