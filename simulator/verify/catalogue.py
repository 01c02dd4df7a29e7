"""The fixed call scenarios: every way a call can end, callers hanging up, AT's markets, and
real calls whose events arrive duplicated, reordered or late.

Each is a :class:`~at_voice_kit.simulator.verify.scenarios.CallScenario` value; nothing here runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from at_voice_kit.contracts.vocabulary import Direction, HangupCause
from at_voice_kit.simulator.engine.callee import CalleeAnswer, CalleeScript
from at_voice_kit.simulator.engine.events import EventFaults
from at_voice_kit.simulator.engine.rates import DEFAULT_RATE_TABLE
from at_voice_kit.simulator.verify.scenarios import CallScenario, Category

UNANSWERED_CAUSES: dict[HangupCause, CalleeAnswer] = {
    HangupCause.CALL_REJECTED: CalleeAnswer.REJECTED,
    HangupCause.NORMAL_TEMPORARY_FAILURE: CalleeAnswer.FAILED,
    HangupCause.RECOVERY_ON_TIMER_EXPIRE: CalleeAnswer.NO_ANSWER,
    HangupCause.ORIGINATOR_CANCEL: CalleeAnswer.NO_ANSWER,
    HangupCause.LOSE_RACE: CalleeAnswer.NO_ANSWER,
    HangupCause.USER_BUSY: CalleeAnswer.BUSY,
    HangupCause.NO_ANSWER: CalleeAnswer.NO_ANSWER,
    HangupCause.NO_USER_RESPONSE: CalleeAnswer.NO_ANSWER,
    HangupCause.SUBSCRIBER_ABSENT: CalleeAnswer.UNREACHABLE,
    HangupCause.SERVICE_UNAVAILABLE: CalleeAnswer.FAILED,
    HangupCause.USER_NOT_REGISTERED: CalleeAnswer.UNREACHABLE,
    HangupCause.UNALLOCATED_NUMBER: CalleeAnswer.UNREACHABLE,
    HangupCause.UNSPECIFIED: CalleeAnswer.FAILED,
}
"""Every cause an outbound call can end with before it is answered, and how the phone
reacted. (``NORMAL_CLEARING`` ends answered calls: it has its own scenario.)"""

CALLER_HANGS_UP_AFTER: tuple[float, ...] = (1.0, 6.0, 15.0, 45.0)
"""Seconds into an answered call at which the caller hangs up (mid-prompt, mid-menu, ...)."""

QUICK_MARKETS = ("UG", "NG", "ZA")


@dataclass(frozen=True, slots=True)
class Parties:
    """The numbers of the simulated calls: the app's AT number and the default phone user."""

    at_number: str
    phone_number: str


def outcome_scenarios(parties: Parties) -> list[CallScenario]:
    """An answered call cleared normally, each unanswered cause, and an inbound caller who
    hangs up while AT is still asking the app."""
    phone = parties.phone_number
    scenarios = [
        CallScenario(
            "outcomes/outbound/NORMAL_CLEARING",
            "outbound call answered, ended normally (NORMAL_CLEARING)",
            Category.OUTCOMES,
            Direction.OUTBOUND,
            phone,
            CalleeScript(answer=CalleeAnswer.ANSWERED, speech_seconds=5.0, hangup_after=300.0),
        )
    ]
    for cause, answer in UNANSWERED_CAUSES.items():
        scenarios.append(
            CallScenario(
                f"outcomes/outbound/{cause.value}",
                f"outbound call not answered: {cause.value} (callStartTime=None)",
                Category.OUTCOMES,
                Direction.OUTBOUND,
                phone,
                CalleeScript(answer=answer),
                forced_cause=cause,
            )
        )
    scenarios.append(
        CallScenario(
            "outcomes/inbound/ORIGINATOR_CANCEL",
            "inbound caller hangs up before the call is answered (ORIGINATOR_CANCEL)",
            Category.OUTCOMES,
            Direction.INBOUND,
            phone,
            CalleeScript(hangup_after=0.0),
        )
    )
    return scenarios


def hangup_scenarios(parties: Parties, *, quick: bool = False) -> list[CallScenario]:
    """The caller hangs up part-way through the app's flow, in both directions."""
    scenarios: list[CallScenario] = []
    moments = CALLER_HANGS_UP_AFTER[:2] if quick else CALLER_HANGS_UP_AFTER
    for direction in (Direction.OUTBOUND, Direction.INBOUND):
        for seconds in moments:
            scenarios.append(
                CallScenario(
                    f"hangups/{direction.value.lower()}/after-{seconds:g}s",
                    f"{direction.value.lower()} call: the caller hangs up after {seconds:g} s",
                    Category.HANGUPS,
                    direction,
                    parties.phone_number,
                    CalleeScript(
                        answer=CalleeAnswer.ANSWERED, hangup_after=seconds, speech_seconds=5.0
                    ),
                )
            )
    return scenarios


def market_numbers(*, quick: bool = False) -> list[tuple[str, str]]:
    """``(region, number)``: a valid mobile number in each market the rate table knows."""
    regions = [
        region
        for rate in DEFAULT_RATE_TABLE.rates
        for region in phonenumbers.region_codes_for_country_code(int(rate.calling_code))[:1]
    ]
    if quick:
        regions = [region for region in regions if region in QUICK_MARKETS]
    numbers: list[tuple[str, str]] = []
    for region in regions:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if example is not None:
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            numbers.append((region, e164))
    return numbers


def market_scenarios(parties: Parties, *, quick: bool = False) -> list[CallScenario]:
    """An answered inbound call from a caller in each market (other country codes, carriers
    and currencies in the payloads)."""
    return [
        CallScenario(
            f"markets/{region}",
            f"inbound call from {region} ({number})",
            Category.MARKETS,
            Direction.INBOUND,
            number,
            CalleeScript(hangup_after=300.0, speech_seconds=5.0),
        )
        for region, number in market_numbers(quick=quick)
    ]


EVENT_FAULTS: tuple[tuple[str, str, EventFaults], ...] = (
    ("duplicated", "every event delivered twice", EventFaults(duplicate_probability=1.0)),
    ("reordered", "events swapped with the next one", EventFaults(reorder_probability=1.0)),
    (
        "late",
        "events delayed so that later ones overtake them",
        EventFaults(delay_probability=0.6, delay_seconds=(5.0, 90.0)),
    ),
    (
        "chaos",
        "events duplicated, reordered and delayed at random",
        EventFaults(delay_probability=0.3, duplicate_probability=0.3, reorder_probability=0.3),
    ),
)
"""How the engine mangles the events of a real call (its ``EventFaults``)."""


def event_delivery_scenarios(parties: Parties, *, quick: bool = False) -> list[CallScenario]:
    """Real answered and unanswered calls whose events arrive duplicated, reordered, late."""
    scenarios: list[CallScenario] = []
    faults = EVENT_FAULTS[:2] if quick else EVENT_FAULTS
    for name, description, event_faults in faults:
        scenarios.append(
            CallScenario(
                f"event-delivery/answered/{name}",
                f"answered outbound call, {description}",
                Category.EVENT_DELIVERY,
                Direction.OUTBOUND,
                parties.phone_number,
                CalleeScript(answer=CalleeAnswer.ANSWERED, hangup_after=300.0, speech_seconds=5.0),
                event_faults=event_faults,
                client_request_id=f"verify-{name}",
            )
        )
        scenarios.append(
            CallScenario(
                f"event-delivery/busy/{name}",
                f"busy outbound call, {description}",
                Category.EVENT_DELIVERY,
                Direction.OUTBOUND,
                parties.phone_number,
                CalleeScript(answer=CalleeAnswer.BUSY),
                event_faults=event_faults,
            )
        )
    return scenarios
