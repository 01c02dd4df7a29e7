"""AT's requests for an imagined call, built with the call engine's own payload functions.

The request scenarios (fields left out, events in other orders, redeliveries) start from
exactly what the engine sends on a real simulated call, so they differ from AT's traffic
only in the one way each scenario means to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from at_voice_kit.contracts.phone import carrier_name, country_calling_code
from at_voice_kit.contracts.vocabulary import (
    NONE_STRING,
    CallSessionState,
    CallStatus,
    Direction,
    EventType,
    HangupCause,
)
from at_voice_kit.contracts.wire import CallStartTimeSeparator
from at_voice_kit.simulator.engine.clock import DEFAULT_EPOCH
from at_voice_kit.simulator.engine.outcomes import ANSWERED_ENDING, Ending
from at_voice_kit.simulator.engine.payloads import (
    EVENT_SESSION_STATES,
    CallFacts,
    DialFacts,
    Fields,
    Settlement,
    callback_fields,
    event_fields,
    final_fields,
)
from at_voice_kit.simulator.engine.rates import DEFAULT_RATE_TABLE

ANSWERED_SECONDS = 42
"""How long an imagined answered call lasted."""
TRANSFER_NUMBER = "+254711082001"
"""Where an imagined transfer went (``dialDestinationNumber`` of ``SessionTransferred``)."""


@dataclass(frozen=True, slots=True)
class CallPayloads:
    """The requests AT would send for one call between ``phone_number`` and ``at_number``."""

    session_id: str
    direction: Direction
    phone_number: str
    at_number: str
    arrived_at: datetime = DEFAULT_EPOCH
    separator: CallStartTimeSeparator = CallStartTimeSeparator.PLUS

    @property
    def answered_at(self) -> datetime:
        """When the phone user picked up (a few seconds of ringing after the call began)."""
        return self.arrived_at + timedelta(seconds=7)

    def facts(self, *, answered: bool, transferred: bool = False) -> CallFacts:
        """The call's facts, before or after it was answered."""
        start: datetime | None = None
        if self.direction is Direction.INBOUND:
            start = self.arrived_at  # an inbound call's callStartTime is its arrival
        elif answered:
            start = self.answered_at
        facts = CallFacts(
            session_id=self.session_id,
            direction=self.direction,
            phone_number=self.phone_number,
            at_number=self.at_number,
            caller_country_code=country_calling_code(self.phone_number),
            caller_carrier=carrier_name(self.phone_number) or NONE_STRING,
            call_start=start,
        )
        if transferred:
            facts.dial = DialFacts(TRANSFER_NUMBER, self.answered_at + timedelta(seconds=20))
        return facts

    def first(self) -> Fields:
        """The first request of the call (``isActive=1``): an outbound call's once answered,
        an inbound call's while it rings (AT asks the app before it answers), as the call
        engine sends them."""
        ringing = self.direction is Direction.INBOUND
        state = CallSessionState.RINGING if ringing else CallSessionState.ANSWERED
        return callback_fields(self.facts(answered=True), self.separator, state=state)

    def with_digits(self, digits: str) -> Fields:
        """The request after a GetDigits that got ``digits``."""
        return callback_fields(self.facts(answered=True), self.separator, (("dtmfDigits", digits),))

    def final(self, cause: HangupCause | None = None) -> Fields:
        """The final request: answered and cleared normally, or never answered with ``cause``."""
        return final_fields(
            self.facts(answered=cause is None), self.settlement(cause), self.separator
        )

    def settlement(self, cause: HangupCause | None = None) -> Settlement:
        """Duration and cost: ``cause`` None means answered (billed), else unanswered (free)."""
        rates = DEFAULT_RATE_TABLE
        if cause is None:
            charge = rates.charge(self.phone_number, self.direction, ANSWERED_SECONDS)
            return Settlement(ANSWERED_ENDING, ANSWERED_SECONDS, charge)
        ending = Ending(CallSessionState.NOT_ANSWERED, CallStatus.NOT_ANSWERED, cause)
        return Settlement(ending, 0, rates.free(self.phone_number))

    def event(
        self, event: EventType, cause: HangupCause | None = None, *, transferred: bool = False
    ) -> Fields:
        """The events-URL request for ``event`` (``cause``: the call was never answered)."""
        currency = DEFAULT_RATE_TABLE.currency_for(self.phone_number)
        answered = cause is None and event not in (
            EventType.SESSION_STARTED,
            EventType.SESSION_RINGING,
            EventType.SESSION_FAILED,
        )
        facts = self.facts(answered=answered, transferred=transferred)
        if event in (EventType.SESSION_ENDED, EventType.SESSION_FAILED):
            return event_fields(
                facts, event, self.separator, currency=currency,
                settlement=self.settlement(cause),
            )  # fmt: skip
        extra: Fields = ()
        if event is EventType.SESSION_TRANSFERRED:
            extra = (("dialDestinationNumber", TRANSFER_NUMBER),)
        return event_fields(
            facts, event, self.separator, currency=currency,
            state=EVENT_SESSION_STATES.get(event), extra=extra,
        )  # fmt: skip
