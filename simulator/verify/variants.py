"""AT's requests as AT may really send them: optional fields absent, other spellings, and
hangup causes or event types nobody documented.

Each scenario is a short call of direct requests (first request, events, final request) on a
fresh ``sessionId``, built from the engine's own payloads and changed in one way only, so a
finding names exactly the variation the app cannot take. Only the fields the contract
requires (``contracts/service.yaml``: ``sessionId``, ``callerNumber``, ``destinationNumber``
on callbacks; ``sessionId`` on events) are never left out.
"""

from __future__ import annotations

from collections.abc import Callable

from at_voice_kit.contracts.service_contract import form_rules
from at_voice_kit.contracts.vocabulary import (
    NONE_STRING,
    SERVICE_DOC_HANGUP_CAUSES,
    Direction,
    EventType,
    HangupCause,
)
from at_voice_kit.contracts.wire import CallStartTimeSeparator
from at_voice_kit.simulator.verify.catalogue import Parties
from at_voice_kit.simulator.verify.exchanges import Origin, Role
from at_voice_kit.simulator.verify.payloads import CallPayloads
from at_voice_kit.simulator.verify.scenarios import (
    Category,
    PlannedRequest,
    RequestScenario,
    replaced,
    session_id_for,
    without,
)

Fields = tuple[tuple[str, str], ...]
Change = Callable[[Fields], Fields]

UNDOCUMENTED_CAUSE = "UNDOCUMENTED_FUTURE_CAUSE"
"""A cause no document names: receivers must accept any cause string."""
UNDOCUMENTED_EVENT = "SessionUndocumented"
"""An eventType no document names (AT adds values without notice)."""
UNDOCUMENTED_FIELD = ("callerSimulatorNote", "an undocumented field AT might add")


def _mini_call(
    scenario_id: str,
    title: str,
    payloads: CallPayloads,
    change: Change,
    *,
    cause: HangupCause | None = None,
    category: Category = Category.OPTIONAL_FIELDS,
) -> RequestScenario:
    """First request (unless the call was never answered), events, final request; each
    changed by ``change``."""  # fmt: skip
    requests: list[PlannedRequest] = []
    events: tuple[EventType, ...]
    if cause is None:
        requests.append(PlannedRequest(Role.FIRST, change(payloads.first())))
        events = (EventType.SESSION_STARTED, EventType.SESSION_ANSWERED, EventType.SESSION_ENDED)
    else:
        events = (EventType.SESSION_STARTED, EventType.SESSION_FAILED)
    requests.extend(PlannedRequest(Role.EVENT, change(payloads.event(e, cause))) for e in events)
    requests.append(PlannedRequest(Role.FINAL, change(payloads.final(cause))))
    return RequestScenario(scenario_id, title, category, Origin.REPLAYED, tuple(requests))


def _only_on(role_fields: frozenset[str], name: str) -> Change:
    """Remove ``name`` from the requests that carry it, unless the contract requires it there."""

    def change(fields: Fields) -> Fields:
        is_event = any(key == "eventType" for key, _ in fields)
        required = role_fields if not is_event else form_rules("EventForm").required
        return fields if name in required else without(fields, name)

    return change


def optional_field_scenarios(seed: int | str, parties: Parties) -> list[RequestScenario]:
    """One call per optional field, with that field left out wherever AT sends it, then a
    call with only the required fields."""
    sample = CallPayloads(
        "ATVId_sample", Direction.OUTBOUND, parties.phone_number, parties.at_number
    )
    seen: list[str] = []
    for fields in (sample.first(), sample.final(), sample.event(EventType.SESSION_ENDED)):
        seen.extend(key for key, _ in fields if key not in seen)
    callback_required = form_rules("CallbackForm").required
    event_required = form_rules("EventForm").required
    scenarios: list[RequestScenario] = []
    for name in seen:
        if name in callback_required and name in event_required:
            continue
        scenario_id = f"optional-fields/without-{name}"
        scenarios.append(
            _mini_call(
                scenario_id,
                f"requests without {name}",
                _payloads(seed, scenario_id, parties),
                _only_on(callback_required, name),
            )
        )
    minimal_id = "optional-fields/only-required"

    def minimal(fields: Fields) -> Fields:
        is_event = any(key == "eventType" for key, _ in fields)
        keep = event_required if is_event else callback_required | {"isActive"}
        return tuple((key, value) for key, value in fields if key in keep)

    scenarios.append(
        _mini_call(
            minimal_id,
            "requests with only the fields the contract requires",
            _payloads(seed, minimal_id, parties),
            minimal,
        )
    )
    return scenarios


def _payloads(
    seed: int | str,
    scenario_id: str,
    parties: Parties,
    separator: CallStartTimeSeparator = CallStartTimeSeparator.PLUS,
    direction: Direction = Direction.OUTBOUND,
) -> CallPayloads:
    return CallPayloads(
        session_id_for(seed, scenario_id),
        direction,
        parties.phone_number,
        parties.at_number,
        separator=separator,
    )


def _unencoded_plus(fields: Fields) -> Fields:
    # The service docs' curl examples send '+' unencoded, so it arrives as a space.
    return tuple(
        (key, " " + value[1:] if value.startswith("+") else value) for key, value in fields
    )


def _lowercase_direction(fields: Fields) -> Fields:
    return tuple((key, value.lower() if key == "direction" else value) for key, value in fields)


def _unknown_carrier(fields: Fields) -> Fields:
    if not any(key == "callerCarrierName" for key, _ in fields):
        return fields
    return replaced(fields, callerCarrierName="None")


def _undocumented_field(fields: Fields) -> Fields:
    return (*fields, UNDOCUMENTED_FIELD)


def _unknown_event_type(fields: Fields) -> Fields:
    if not any(key == "eventType" for key, _ in fields):
        return fields
    return replaced(fields, eventType=UNDOCUMENTED_EVENT)


def _unchanged(fields: Fields) -> Fields:
    return fields


_SPELLINGS: tuple[tuple[str, str, Change], ...] = (
    ("unencoded-plus", "numbers whose '+' arrived as a space (the service docs' curl)",
     _unencoded_plus),
    ("lowercase-direction", "direction in lower case (the service docs' example)",
     _lowercase_direction),
    ("unknown-carrier", "callerCarrierName=None (carrier unknown)", _unknown_carrier),
    ("undocumented-field", "an extra field AT has not documented", _undocumented_field),
    ("undocumented-event-type", f"eventType={UNDOCUMENTED_EVENT} (not documented)",
     _unknown_event_type),
)  # fmt: skip


def spelling_scenarios(seed: int | str, parties: Parties) -> list[RequestScenario]:
    """Calls whose requests use the other spellings AT and its docs use."""
    scenarios: list[RequestScenario] = []
    space_id = "optional-fields/call-start-time-with-space"
    scenarios.append(
        _mini_call(
            space_id,
            "callStartTime written with a space (the service docs), not '+'",
            _payloads(seed, space_id, parties, CallStartTimeSeparator.SPACE),
            _unchanged,
        )
    )
    inbound_id = "optional-fields/inbound-call-start-time-with-space"
    scenarios.append(
        _mini_call(
            inbound_id,
            "inbound call, callStartTime written with a space",
            _payloads(seed, inbound_id, parties, CallStartTimeSeparator.SPACE, Direction.INBOUND),
            _unchanged,
        )
    )
    for name, title, change in _SPELLINGS:
        scenario_id = f"optional-fields/{name}"
        scenarios.append(
            _mini_call(scenario_id, title, _payloads(seed, scenario_id, parties), change)
        )
    return scenarios


def undocumented_cause_scenarios(seed: int | str, parties: Parties) -> list[RequestScenario]:
    """Unanswered calls ending with causes only the service docs name, and one nobody does.

    AT's vocabulary is not closed: a receiver that only knows the 14 documented causes
    crashes the day AT sends another.
    """
    scenarios: list[RequestScenario] = []
    for cause in (*sorted(SERVICE_DOC_HANGUP_CAUSES), UNDOCUMENTED_CAUSE):
        scenario_id = f"outcomes/undocumented/{cause}"
        payloads = _payloads(seed, scenario_id, parties)

        def with_cause(fields: Fields, cause: str = cause) -> Fields:
            # Only where the cause is known: earlier events carry hangupCause=None.
            return tuple(
                (key, cause if key == "hangupCause" and value != NONE_STRING else value)
                for key, value in fields
            )

        scenarios.append(
            _mini_call(
                scenario_id,
                f"outbound call not answered: hangupCause={cause} (not one of AT's 14)",
                payloads,
                with_cause,
                cause=HangupCause.UNSPECIFIED,
                category=Category.OUTCOMES,
            )
        )
    return scenarios
