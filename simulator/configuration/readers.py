"""Strict readers of settings documents: accounts, numbers, callees, event delivery faults,
the webhook timeout and simulated inbound calls.

The same rules serve the admin API (JSON), the config file (YAML) and the command-line flags,
so a callee or ``eventFaults`` means the same wherever it is written. Each field is read with
:class:`~at_voice_kit.simulator.configuration.fields.FieldReader`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from at_voice_kit.contracts.vocabulary import HangupCause
from at_voice_kit.simulator.backend.callees import CalleeAnswer, CalleeScript
from at_voice_kit.simulator.backend.changes import OMITTED, AccountChanges, NumberChanges, Omitted
from at_voice_kit.simulator.backend.exceptions import FieldError, InvalidSettings
from at_voice_kit.simulator.configuration.fields import (
    API_KEY,
    CURRENCY,
    DIGITS,
    MAX_DIGIT_INPUTS,
    MAX_HANGUP_AFTER,
    FieldReader,
    phone_number_problem,
)
from at_voice_kit.simulator.engine.callee import (
    MAX_KEYS_PER_ENTRY,
    cause_problem,
    hangup_cause_named,
)
from at_voice_kit.simulator.engine.events import EventFaults

EVENT_FAULT_FIELDS = (
    "delayProbability",
    "delaySeconds",
    "duplicateProbability",
    "reorderProbability",
)
INBOUND_CALL_FIELDS = ("from", "to")
MAX_FAULT_DELAY_SECONDS = 3600.0
MAX_WEBHOOK_TIMEOUT_SECONDS = 600.0
PROBABILITY_RULE = "must be a probability from 0 to 1"
DELAY_RULE = f"must be two numbers of seconds from 0 to {MAX_FAULT_DELAY_SECONDS:g}, e.g. [1, 10]"
WEBHOOK_TIMEOUT_RULE = (
    f"must be a number of seconds greater than 0 and at most {MAX_WEBHOOK_TIMEOUT_SECONDS:g}"
)


def probability_problem(value: object) -> str | None:
    """Why ``value`` is not a probability, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return PROBABILITY_RULE
    if not math.isfinite(value) or not 0 <= value <= 1:
        return PROBABILITY_RULE
    return None


def webhook_timeout_problem(value: object) -> str | None:
    """Why ``value`` is not a usable webhook timeout, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return WEBHOOK_TIMEOUT_RULE
    if not math.isfinite(value) or not 0 < value <= MAX_WEBHOOK_TIMEOUT_SECONDS:
        return WEBHOOK_TIMEOUT_RULE
    return None


def read_event_fault_fields(reader: FieldReader) -> EventFaults:
    """The event fault fields of an object being read; left-out fields are off."""
    delay = _delay_seconds(reader)
    return EventFaults(
        delay_probability=_probability(reader, "delayProbability"),
        delay_seconds=delay if delay is not None else EventFaults().delay_seconds,
        duplicate_probability=_probability(reader, "duplicateProbability"),
        reorder_probability=_probability(reader, "reorderProbability"),
    )


def _probability(reader: FieldReader, key: str) -> float:
    value = reader.raw(key, required=False)
    if isinstance(value, Omitted):
        return 0.0
    if probability_problem(value) is not None or not isinstance(value, int | float):
        reader.fail(key, PROBABILITY_RULE)
        return 0.0
    return float(value)


def _delay_seconds(reader: FieldReader) -> tuple[float, float] | None:
    value = reader.raw("delaySeconds", required=False)
    if isinstance(value, Omitted):
        return None
    if not isinstance(value, list) or len(value) != 2:
        reader.fail("delaySeconds", DELAY_RULE)
        return None
    low, high = value
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            reader.fail("delaySeconds", DELAY_RULE)
            return None
    if not (math.isfinite(low) and math.isfinite(high)):
        reader.fail("delaySeconds", DELAY_RULE)
        return None
    if not (0 <= low <= MAX_FAULT_DELAY_SECONDS and 0 <= high <= MAX_FAULT_DELAY_SECONDS):
        reader.fail("delaySeconds", DELAY_RULE)
        return None
    return float(min(low, high)), float(max(low, high))


def read_event_faults(data: object) -> EventFaults:
    """Validate a ``PUT /_simulator/event-faults`` body (it replaces every fault)."""
    reader = FieldReader(data, "", EVENT_FAULT_FIELDS)
    faults = read_event_fault_fields(reader)
    reader.raise_if_invalid()
    return faults


def event_faults_document(faults: EventFaults) -> dict[str, object]:
    """Event faults as the admin API and the config file write them."""
    low, high = faults.delay_seconds
    return {
        "delayProbability": faults.delay_probability,
        "delaySeconds": [low, high],
        "duplicateProbability": faults.duplicate_probability,
        "reorderProbability": faults.reorder_probability,
    }


@dataclass(frozen=True, slots=True)
class InboundCallRequest:
    """``POST /_simulator/calls``: the phone user ``caller`` calls the AT number ``at_number``."""

    caller: str
    at_number: str


def read_inbound_call(data: object) -> InboundCallRequest:
    """Validate a ``POST /_simulator/calls`` body: ``{"from": phone user, "to": AT number}``."""
    reader = FieldReader(data, "", INBOUND_CALL_FIELDS)
    numbers: dict[str, str] = {}
    for key in INBOUND_CALL_FIELDS:
        value = reader.raw(key, required=True)
        if isinstance(value, Omitted):
            continue
        if not isinstance(value, str):
            reader.fail(key, "must be a string such as '+254711082001'")
            continue
        problem = phone_number_problem(value)
        if problem is not None:
            reader.fail(key, problem)
            continue
        numbers[key] = value
    reader.raise_if_invalid()
    return InboundCallRequest(numbers["from"], numbers["to"])


def faults_from_flags(
    base: EventFaults,
    *,
    delay: float | None = None,
    duplicate: float | None = None,
    reorder: float | None = None,
) -> EventFaults:
    """``base`` with the probabilities given on the command line put over it."""
    problems = [
        FieldError(flag, PROBABILITY_RULE)
        for flag, value in (
            ("--event-delay", delay),
            ("--event-duplicate", duplicate),
            ("--event-reorder", reorder),
        )
        if value is not None and probability_problem(value) is not None
    ]
    if problems:
        raise InvalidSettings(problems)
    return EventFaults(
        delay_probability=base.delay_probability if delay is None else delay,
        delay_seconds=base.delay_seconds,
        duplicate_probability=base.duplicate_probability if duplicate is None else duplicate,
        reorder_probability=base.reorder_probability if reorder is None else reorder,
    )


ACCOUNT_FIELDS = ("apiKey", "balance", "currency")
NUMBER_FIELDS = ("username", "callbackUrl", "eventsUrl")
CALLEE_FIELDS = ("answer", "digits", "hangupAfter", "speechSeconds", "hangupCause")


def read_account_fields(reader: FieldReader) -> AccountChanges:
    """The account fields of an object being read (errors collected in ``reader``)."""
    return AccountChanges(
        api_key=reader.string(
            "apiKey", API_KEY, "must be 1 to 256 printable ASCII characters, no spaces"
        ),
        balance=reader.amount("balance"),
        currency=reader.string(
            "currency", CURRENCY, "must be an ISO 4217 code of 3 capital letters"
        ),
    )


def read_number_fields(reader: FieldReader) -> NumberChanges:
    """The number fields of an object being read."""
    return NumberChanges(
        username=reader.username("username"),
        callback_url=reader.url("callbackUrl"),
        events_url=reader.url("eventsUrl"),
    )


def read_callee_fields(reader: FieldReader) -> CalleeScript:
    """The callee fields of an object being read; ``answer`` is required."""
    answer_value = reader.raw("answer", required=True)
    answer = CalleeAnswer.ANSWERED
    if answer_value is not OMITTED:
        choices = ", ".join(repr(choice.value) for choice in CalleeAnswer)
        if isinstance(answer_value, str) and answer_value in CalleeAnswer._value2member_map_:
            answer = CalleeAnswer(answer_value)
        else:
            reader.fail("answer", f"must be one of {choices}")
    digits: list[str] = []
    items = reader.items("digits")
    if items is not OMITTED:
        if len(items) > MAX_DIGIT_INPUTS:
            reader.fail("digits", f"must hold at most {MAX_DIGIT_INPUTS} inputs")
        for index, item in enumerate(items):
            if isinstance(item, str) and DIGITS.match(item):
                digits.append(item)
            else:
                reader.fail(
                    f"digits[{index}]",
                    f"must be a string of at most {MAX_KEYS_PER_ENTRY} of 0-9, '*' and '#' "
                    '("" presses nothing at that prompt)',
                )
    hangup_after = reader.number("hangupAfter", 0, MAX_HANGUP_AFTER)
    speech_seconds = reader.number("speechSeconds", 0, MAX_HANGUP_AFTER, inclusive_minimum=True)
    return CalleeScript(
        answer=answer,
        digits=tuple(digits),
        hangup_after=None if isinstance(hangup_after, Omitted) else hangup_after,
        speech_seconds=None if isinstance(speech_seconds, Omitted) else speech_seconds,
        hangup_cause=_read_hangup_cause(reader, answer),
    )


def _read_hangup_cause(reader: FieldReader, answer: CalleeAnswer) -> HangupCause | None:
    """``hangupCause``: one of AT's 14 causes that goes with ``answer`` (null: drawn)."""
    value = reader.raw("hangupCause", required=False)
    if value is OMITTED or value is None:
        return None
    cause = hangup_cause_named(value)
    if not isinstance(cause, HangupCause):  # a rule: HangupCause is a str too
        reader.fail("hangupCause", cause)
        return None
    problem = cause_problem(answer, cause)
    if problem is not None:
        reader.fail("hangupCause", problem)
        return None
    return cause


def read_account_changes(data: object) -> AccountChanges:
    """Validate a ``PUT accounts/{username}`` body."""
    reader = FieldReader(data, "", ACCOUNT_FIELDS)
    changes = read_account_fields(reader)
    reader.raise_if_invalid()
    return changes


def read_number_changes(data: object) -> NumberChanges:
    """Validate a ``PUT numbers/{number}`` body."""
    reader = FieldReader(data, "", NUMBER_FIELDS)
    changes = read_number_fields(reader)
    reader.raise_if_invalid()
    return changes


def read_callee(data: object) -> CalleeScript:
    """Validate a ``PUT callees/{number}`` body."""
    reader = FieldReader(data, "", CALLEE_FIELDS)
    behaviour = read_callee_fields(reader)
    reader.raise_if_invalid()
    return behaviour
