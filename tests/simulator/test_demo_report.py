"""``atsim demo`` fails when anything went wrong: its checks, on made-up journals."""

from __future__ import annotations

from typing import Any

from at_voice_kit.simulator.demo.report import DemoResult, outcome_summary, problems
from at_voice_kit.simulator.demo.scenario import SCRIPTED, build_scenario

SESSION = "ATVId_" + "a" * 32


def call(status: int | None = 200, cause: str = "NORMAL_CLEARING") -> dict[str, Any]:
    webhook = {"kind": "callback", "status": status, "error": None, "body": "oops", "form": {}}
    outcome = {
        "hangupCause": cause,
        "callSessionState": "Completed",
        "status": "Success",
        "currencyCode": "KES",
        "amount": "1.250",
        "durationInSeconds": 30,
    }
    return {"webhooks": [webhook, dict(webhook)], "outcome": outcome}


def stored(events: int = 3, cause: str = "NORMAL_CLEARING", ended: bool = True) -> dict[str, Any]:
    return {
        "sessionId": SESSION,
        "eventCount": events,
        "outcome": {"ended": ended, "hangupCause": cause},
    }


def result(document: dict[str, Any] | None, problem: str | None = None) -> DemoResult:
    return DemoResult("label", "+254711082001", SESSION, document, problem)


def test_a_call_stored_exactly_as_run_passes() -> None:
    assert problems([result(call())], [stored()]) == []


def test_every_kind_of_failure_is_reported() -> None:
    assert problems([result(None, "not queued: InsufficientCredit")], []) == [
        "+254711082001: not queued: InsufficientCredit"
    ]
    assert (
        "the service answered 500 to callback (oops)"
        in problems([result(call(status=500))], [stored()])[0]
    )
    assert problems([result(call())], []) == [
        f"{SESSION}: the service stored nothing for this call"
    ]
    (missing,) = problems([result(call())], [stored(events=2)])
    assert "stored 2 events, expected 3" in missing
    (cause,) = problems([result(call())], [stored(cause="USER_BUSY")])
    assert "hangupCause USER_BUSY" in cause
    (unended,) = problems([result(call())], [stored(ended=False)])
    assert "does not know the call ended" in unended


def test_what_the_service_answered_is_shown_printable_and_masked() -> None:
    document = call(status=500)
    document["webhooks"][0]["body"] = "\x1b[2J see http://svc/voice?secret=demo-secret-value"
    (first, _) = problems([result(document)], [stored()])
    assert first.endswith("(\\x1b[2J see http://svc/voice?secret=***)")


def test_the_summary_counts_calls_by_cause_and_adds_up_their_cost() -> None:
    summary = outcome_summary([result(call()), result(call()), result(call(cause="USER_BUSY"))])
    assert "NORMAL_CLEARING  2" in summary and "USER_BUSY        1" in summary
    assert "total cost: KES 3.750" in summary


def test_the_scenario_is_seeded_and_scripted_first() -> None:
    first, again = build_scenario(10, seed=4), build_scenario(10, seed=4)
    assert first == again
    assert [c.label for c in first[: len(SCRIPTED)]] == [label for label, _, _ in SCRIPTED]
    assert all(c.script is None for c in first[len(SCRIPTED) :])
    assert len({c.phone_number for c in first}) == 10
    assert [c.label for c in build_scenario(2, seed=4)] == [SCRIPTED[0][0], SCRIPTED[1][0]]
