"""The form fields of every request the engine sends, built from a call's facts; no I/O.

Field order is fixed (AT's own order varies between requests, so receivers must not rely on
it; a fixed order keeps the simulator's output byte-for-byte reproducible). Which field appears
on which request follows the real AT payloads kept, with their sources, in
``tests/simulator/at_payloads/`` (and tested against them). Callback requests:

``isActive, sessionId, direction, callerNumber, destinationNumber, callerCountryCode,
callerCarrierName, callStartTime``, then on a live request ``callSessionState`` (``Ringing``
while AT asks the app about an inbound call it has not answered yet, ``Answered`` once the
call is answered: AT sends it on every request since 2021) and ``dtmfDigits`` or
``recordingUrl`` where they apply; on the final request ``durationInSeconds, currencyCode,
amount, callSessionState, status``, then ``hangupCause`` only for a call that never connected
(recorded finals of answered calls carry none; the events URL always has it), the dial fields
if a Dial connected, and ``recordingUrl`` if one applies.

Events (the service docs' list first): ``sessionId, eventType, callerNumber,
destinationNumber, hangupCause, direction, callStartTime, durationInSeconds, currencyCode,
amount``, then the AT fields known at that moment (``isActive``, ``callSessionState``,
``status``, ``callerCountryCode``, ``callerCarrierName``, ``clientRequestId``, and on the
terminal event the dial and recording fields). A value not known yet is written the AT way,
``None`` (``hangupCause`` before the end), and duration and amount are ``0`` until the end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from at_voice_kit.contracts.vocabulary import NONE_STRING, CallSessionState, Direction, EventType
from at_voice_kit.contracts.wire import CallStartTimeSeparator, format_call_start_time
from at_voice_kit.simulator.engine.outcomes import Ending
from at_voice_kit.simulator.engine.rates import Charge

Fields = tuple[tuple[str, str], ...]

EVENT_SESSION_STATES: Mapping[EventType, CallSessionState] = {
    EventType.SESSION_RINGING: CallSessionState.RINGING,
    EventType.SESSION_ANSWERED: CallSessionState.ANSWERED,
    EventType.SESSION_QUEUED: CallSessionState.ANSWERED,
    EventType.SESSION_TRANSFERRED: CallSessionState.ANSWERED,
}
"""The ``callSessionState`` a live event carries (the terminal ones carry the call's end)."""


def whole_seconds(start: datetime, end: datetime) -> int:
    """A duration as AT reports it: whole seconds, every started second counted."""
    elapsed = round((end - start).total_seconds(), 3)  # drop float noise before ceil
    return max(math.ceil(elapsed), 0)


@dataclass(slots=True)
class DialFacts:
    """The leg a Dial (or Dequeue, or a transfer) connected."""

    destination: str
    started_at: datetime
    ended_at: datetime | None = None

    def seconds(self) -> int:
        """``dialDurationInSeconds``."""
        return 0 if self.ended_at is None else whole_seconds(self.started_at, self.ended_at)


@dataclass(slots=True)
class CallFacts:
    """What is known about a call at any moment; the runner fills it in as the call goes."""

    session_id: str
    direction: Direction
    phone_number: str
    at_number: str
    caller_country_code: str
    caller_carrier: str
    client_request_id: str | None = None
    call_start: datetime | None = None
    dial: DialFacts | None = None
    final_recording_url: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a call ended and what it cost: the facts only the final request carries."""

    ending: Ending
    duration_seconds: int
    charge: Charge


def callback_fields(
    facts: CallFacts,
    separator: CallStartTimeSeparator,
    extra: Fields = (),
    *,
    state: CallSessionState = CallSessionState.ANSWERED,
) -> Fields:
    """A live callback request (``isActive=1``) of a call in ``state`` (``Ringing``: an inbound
    call AT has not answered yet), with ``extra`` (dtmfDigits, recordingUrl)."""
    return (
        ("isActive", "1"),
        *_identity(facts, separator),
        ("callSessionState", state.value),
        *extra,
    )


def final_fields(
    facts: CallFacts,
    settlement: Settlement,
    separator: CallStartTimeSeparator,
    *,
    cause_when_answered: bool = False,
) -> Fields:
    """The final callback request (``isActive=0``); ``hangupCause`` only when the call never
    connected (``NotAnswered``), as recorded AT traffic has it, unless
    ``cause_when_answered`` (AT's own help page is ambiguous: ``EngineOptions``)."""
    ending = settlement.ending
    cause: Fields = ()
    if ending.state is CallSessionState.NOT_ANSWERED or cause_when_answered:
        cause = (("hangupCause", ending.cause.value),)
    return (
        ("isActive", "0"),
        *_identity(facts, separator),
        ("durationInSeconds", str(settlement.duration_seconds)),
        ("currencyCode", settlement.charge.currency),
        ("amount", settlement.charge.wire_amount),
        ("callSessionState", ending.state.value),
        ("status", ending.status.value),
        *cause,
        *_dial_and_recording(facts, separator),
    )


def event_fields(
    facts: CallFacts,
    event: EventType,
    separator: CallStartTimeSeparator,
    *,
    currency: str,
    state: CallSessionState | None = None,
    settlement: Settlement | None = None,
    extra: Fields = (),
) -> Fields:
    """An events-URL request for ``event``; ``settlement`` only on the terminal event."""
    fields: list[tuple[str, str]] = [
        ("sessionId", facts.session_id),
        ("eventType", event.value),
        ("callerNumber", facts.phone_number),
        ("destinationNumber", facts.at_number),
        ("hangupCause", settlement.ending.cause.value if settlement else NONE_STRING),
        ("direction", facts.direction.value),
        ("callStartTime", format_call_start_time(facts.call_start, separator)),
        ("durationInSeconds", str(settlement.duration_seconds) if settlement else "0"),
        ("currencyCode", currency),
        ("amount", settlement.charge.wire_amount if settlement else "0"),
        ("isActive", "0" if settlement else "1"),
    ]
    if settlement is not None:
        fields.append(("callSessionState", settlement.ending.state.value))
        fields.append(("status", settlement.ending.status.value))
    elif state is not None:
        fields.append(("callSessionState", state.value))
    fields.append(("callerCountryCode", facts.caller_country_code))
    fields.append(("callerCarrierName", facts.caller_carrier))
    if facts.client_request_id is not None:
        fields.append(("clientRequestId", facts.client_request_id))
    if settlement is not None:
        fields.extend(_dial_and_recording(facts, separator))
    fields.extend(extra)
    return tuple(fields)


def _identity(facts: CallFacts, separator: CallStartTimeSeparator) -> Fields:
    return (
        ("sessionId", facts.session_id),
        ("direction", facts.direction.value),
        ("callerNumber", facts.phone_number),
        ("destinationNumber", facts.at_number),
        ("callerCountryCode", facts.caller_country_code),
        ("callerCarrierName", facts.caller_carrier),
        ("callStartTime", format_call_start_time(facts.call_start, separator)),
    )


def _dial_and_recording(facts: CallFacts, separator: CallStartTimeSeparator) -> Fields:
    out: list[tuple[str, str]] = []
    if facts.dial is not None:
        out.append(("dialDestinationNumber", facts.dial.destination))
        out.append(("dialStartTime", format_call_start_time(facts.dial.started_at, separator)))
        out.append(("dialDurationInSeconds", str(facts.dial.seconds())))
    if facts.final_recording_url is not None:
        out.append(("recordingUrl", facts.final_recording_url))
    return tuple(out)
