"""The events URL: lifecycle notifications, their fields, and deliberate delivery faults."""

from __future__ import annotations

import pytest

from at_voice_kit.simulator.engine import EngineOptions, EventFaults
from tests.simulator.engine.harness import USER, EngineHarness, answering, xml

DOC_FIELDS = [
    "sessionId", "eventType", "callerNumber", "destinationNumber", "hangupCause", "direction",
    "callStartTime", "durationInSeconds", "currencyCode", "amount",
]  # fmt: skip


def answered(options: EngineOptions | None = None, seed: int = 1) -> EngineHarness:
    h = EngineHarness(seed=seed, options=options or EngineOptions())
    h.script(USER, answer="answered", digits=["1"])
    h.app(
        answering(
            xml('<GetDigits numDigits="1"><Say>Press</Say></GetDigits>'), xml("<Say>Bye</Say>")
        )
    )
    return h


def test_every_event_carries_the_service_docs_fields_first() -> None:
    h = answered()
    record = h.call()
    events = h.events(record.session_id)
    assert [e["eventType"] for e in events] == [
        "SessionStarted", "SessionRinging", "SessionAnswered", "SessionEnded",
    ]  # fmt: skip
    for event in events:
        assert list(event)[: len(DOC_FIELDS)] == DOC_FIELDS
        assert event["sessionId"] == record.session_id
        assert event["direction"] == "Outbound"
    started, ringing, answered_event, ended = events
    assert started["hangupCause"] == "None" and started["callStartTime"] == "None"
    assert ringing["callSessionState"] == "Ringing"
    assert answered_event["callSessionState"] == "Answered"
    assert answered_event["callStartTime"] != "None"
    final = h.forms(record.session_id)[-1]
    for key in ("durationInSeconds", "amount", "currencyCode", "callStartTime"):
        assert ended[key] == final[key]
    assert ended["hangupCause"] == record.ending.cause.value == "NORMAL_CLEARING"
    assert ended["isActive"] == "0" and ended["status"] == "Success"


def test_no_events_url_means_no_events() -> None:
    h = answered()
    record = h.call(events=False)
    assert h.events(record.session_id) == []


def delivered(h: EngineHarness) -> list[str]:
    return [r.form()["eventType"] for r in h.apps.delivered if r.kind.value == "event"]


def test_duplicate_fault_posts_every_event_twice() -> None:
    h = answered(EngineOptions(event_faults=EventFaults(duplicate_probability=1.0)))
    h.call()
    assert delivered(h) == [
        "SessionStarted", "SessionStarted", "SessionRinging", "SessionRinging",
        "SessionAnswered", "SessionAnswered", "SessionEnded", "SessionEnded",
    ]  # fmt: skip


def test_reorder_fault_swaps_events() -> None:
    h = answered(EngineOptions(event_faults=EventFaults(reorder_probability=1.0)))
    h.call()
    order = delivered(h)
    assert sorted(order) == sorted(
        ["SessionStarted", "SessionRinging", "SessionAnswered", "SessionEnded"]
    )
    assert order[:2] == ["SessionRinging", "SessionStarted"]


def test_delay_fault_lets_later_events_overtake() -> None:
    faults = EventFaults(delay_probability=1.0, delay_seconds=(30.0, 30.0))
    h = answered(EngineOptions(event_faults=faults))
    record = h.call()
    order = delivered(h)
    assert len(order) == 4
    # Every event is held 30 virtual seconds; the call still waits for all of them.
    sent = [
        e.sent_at
        for e in h.journal.for_session(record.session_id)
        if e.request.kind.value == "event"
    ]
    assert min(sent) >= record.queued_at.replace(microsecond=0)
    assert max(sent) >= record.ended_at


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_faults_are_reproducible_and_never_change_payloads(seed: int) -> None:
    faults = EventFaults(delay_probability=0.3, duplicate_probability=0.3, reorder_probability=0.3)

    def run(options: EngineOptions) -> tuple[list[bytes], list[bytes]]:
        h = answered(options, seed=seed)
        h.call()
        events = [r.body() for r in h.apps.delivered if r.kind.value == "event"]
        callbacks = [r.body() for r in h.apps.delivered if r.kind.value == "callback"]
        return events, callbacks

    faulty_a, callbacks_a = run(EngineOptions(event_faults=faults))
    faulty_b, callbacks_b = run(EngineOptions(event_faults=faults))
    clean, callbacks_clean = run(EngineOptions())
    assert faulty_a == faulty_b
    assert callbacks_a == callbacks_b == callbacks_clean
    assert set(faulty_a) == set(clean)


def test_event_faults_validate_their_probabilities() -> None:
    with pytest.raises(ValueError, match="duplicate_probability must be between 0 and 1"):
        EventFaults(duplicate_probability=1.5)
    with pytest.raises(ValueError, match="delay_seconds"):
        EventFaults(delay_seconds=(5.0, 1.0))
