"""AT's webhook forms, parsed once at the edge into typed records, or rejected field by field.

AT posts form fields to the callback URL (``/voice/instruct``) and the events URL
(``/voice/events``). Every field AT is known to send is checked against its rule; fields AT
has not documented are kept as received (AT adds fields without notice, and a webhook that
rejects them would end real calls) unless ``VOICE_STRICT_FIELDS`` asks for a 400 instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from contracts.vocabulary import Direction
from contracts.wire import InvalidCallStartTime, parse_call_start_time
from service.store import CallEvent, EventSource

MAX_FIELDS = 64
MAX_VALUE_LENGTH = 2048
MAX_DURATION_SECONDS = 7 * 24 * 3600
MAX_AMOUNT = Decimal("1000000000")

_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
_TOKEN = re.compile(r"^[!-~]{1,128}$")
_PARTY = re.compile(r"^[!-~]{1,64}$")
_WORD = re.compile(r"^[A-Za-z0-9_\- ]{1,64}$")
_DIGITS = re.compile(r"^[0-9*#]{0,64}$")
_COUNTRY_CODE = re.compile(r"^[0-9]{1,4}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_INTEGER = re.compile(r"^[0-9]{1,10}(\.0+)?$")
_URL = re.compile(r"^https?://[!-~]+$")


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One field breaking one rule."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class InvalidForm(ValueError):
    """A webhook form with one or more bad fields; nothing of it is stored."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


def _check(pattern: re.Pattern[str], rule: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if pattern.match(value) else rule

    return check


def _check_integer(value: str) -> str | None:
    if not _INTEGER.match(value) or int(Decimal(value)) > MAX_DURATION_SECONDS:
        return f"must be a whole number of seconds from 0 to {MAX_DURATION_SECONDS}"
    return None


def _check_amount(value: str) -> str | None:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return "must be a decimal amount such as 5.00"
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        return f"must be a decimal amount from 0 to {MAX_AMOUNT}"
    return None


def _check_call_start_time(value: str) -> str | None:
    try:
        parse_call_start_time(value)
    except InvalidCallStartTime as exc:
        return exc.rule
    return None


def _check_direction(value: str) -> str | None:
    return None if value.lower() in ("inbound", "outbound") else "must be Inbound or Outbound"


def _check_is_active(value: str) -> str | None:
    return None if value in ("0", "1") else "must be 1 (call live) or 0 (final request)"


_ANY_WORD = _check(_WORD, "must be 1 to 64 letters, digits, '_', '-' or spaces")
_ANY_PARTY = _check(_PARTY, "must be 1 to 64 printable characters without spaces")
_ANY_URL = _check(_URL, "must be an http(s) URL")

FIELD_RULES: dict[str, Callable[[str], str | None]] = {
    "sessionId": _check(_TOKEN, "must be 1 to 128 printable characters without spaces"),
    "isActive": _check_is_active,
    "direction": _check_direction,
    "callerNumber": _ANY_PARTY,
    "destinationNumber": _ANY_PARTY,
    "callerCountryCode": _check(_COUNTRY_CODE, "must be a country calling code such as 254"),
    "callerCarrierName": _check(re.compile(r"^[^\x00-\x1f\x7f]{0,64}$"), "must be text"),
    "callStartTime": _check_call_start_time,
    "dtmfDigits": _check(_DIGITS, "must be up to 64 of 0-9, * and #"),
    "recordingUrl": lambda value: None if value == "" else _ANY_URL(value),
    "durationInSeconds": _check_integer,
    "currencyCode": _check(_CURRENCY, "must be a three-letter ISO 4217 code such as KES"),
    "amount": _check_amount,
    "callSessionState": _ANY_WORD,
    "status": _ANY_WORD,
    "hangupCause": _ANY_WORD,
    "eventType": _ANY_WORD,
    "dialDestinationNumber": _ANY_PARTY,
    "dialStartTime": _check_call_start_time,
    "dialDurationInSeconds": _check_integer,
    "clientRequestId": _check(re.compile(r"^[!-~ ]{1,128}$"), "must be 1 to 128 printable chars"),
}
"""Every field AT is known to send on either webhook, with the rule its value must keep."""

CALLBACK_REQUIRED = ("sessionId", "callerNumber", "destinationNumber")
EVENT_REQUIRED = ("sessionId",)


def _validate(
    form: Mapping[str, object], required: tuple[str, ...], *, strict: bool
) -> dict[str, str]:
    problems: list[FieldProblem] = []
    if len(form) > MAX_FIELDS:
        raise InvalidForm([FieldProblem("(form)", f"must have at most {MAX_FIELDS} fields")])
    fields: dict[str, str] = {}
    for name, value in form.items():
        problem = _field_problem(name, value, strict=strict, required=name in required)
        if problem is not None:
            problems.append(FieldProblem(name[:64], problem))
        else:
            assert isinstance(value, str)
            fields[name] = value
    problems.extend(FieldProblem(name, "is required") for name in required if name not in form)
    if problems:
        raise InvalidForm(problems)
    return fields


def _field_problem(name: str, value: object, *, strict: bool, required: bool) -> str | None:
    if not _FIELD_NAME.match(name):
        return "is not a valid field name"
    if not isinstance(value, str):
        return "must be given once"
    if value == "":
        # AT sends some fields empty before they have a value (e.g. hangupCause mid-call).
        return "must not be empty" if required else None
    if len(value) > MAX_VALUE_LENGTH:
        return f"must be at most {MAX_VALUE_LENGTH} characters"
    rule = FIELD_RULES.get(name)
    if rule is None:
        if strict:
            return "is not a field Africa's Talking sends (VOICE_STRICT_FIELDS is on)"
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
            return "must not contain control characters"
        return None
    return rule(value)


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """One request AT made to the callback URL."""

    session_id: str
    is_active: bool
    caller_number: str
    destination_number: str
    dtmf_digits: str | None
    recording_url: str | None
    fields: Mapping[str, str]

    @property
    def kind(self) -> str:
        """What prompted the request: the final notification, input, a recording, or a turn."""
        if not self.is_active:
            return "CallbackFinal"
        if self.dtmf_digits is not None:
            return "CallbackDtmf"
        if self.recording_url is not None:
            return "CallbackRecording"
        return "Callback"

    def to_event(self, flow_position: str) -> CallEvent:
        """The event stored for this request.

        Only the final notification is deduplicated: while a call is live, two identical
        requests (a caller pressing 1 twice at the same menu) are two real turns of the call.
        """
        return _event(
            EventSource.CALLBACK,
            self.kind,
            self.fields,
            redelivery_is_duplicate=not self.is_active,
            extra_key=flow_position,
        )


def parse_callback(form: Mapping[str, object], *, strict: bool = False) -> CallbackRequest:
    """Validate a callback form; :class:`InvalidForm` lists every bad field."""
    fields = _validate(form, CALLBACK_REQUIRED, strict=strict)
    return CallbackRequest(
        session_id=fields["sessionId"],
        # The service docs' example omits isActive: a request without it is a live call.
        is_active=(fields.get("isActive") or "1") == "1",
        caller_number=fields["callerNumber"],
        destination_number=fields["destinationNumber"],
        dtmf_digits=fields.get("dtmfDigits") or None,
        recording_url=fields.get("recordingUrl"),
        fields=fields,
    )


def parse_event(form: Mapping[str, object], *, strict: bool = False) -> CallEvent:
    """Validate an events-URL form into the event to store."""
    fields = _validate(form, EVENT_REQUIRED, strict=strict)
    return _event(EventSource.EVENT, fields.get("eventType", "Notification"), fields)


def _event(
    source: EventSource,
    kind: str,
    fields: Mapping[str, str],
    *,
    redelivery_is_duplicate: bool = True,
    extra_key: str = "",
) -> CallEvent:
    def present(name: str) -> str | None:
        return fields.get(name) or None

    direction = present("direction")
    duration = present("durationInSeconds")
    is_active = present("isActive")
    return CallEvent(
        session_id=fields["sessionId"],
        source=source,
        kind=kind,
        fields=fields,
        redelivery_is_duplicate=redelivery_is_duplicate,
        extra_key=extra_key,
        direction=Direction(direction.capitalize()).value if direction else None,
        caller_number=present("callerNumber"),
        destination_number=present("destinationNumber"),
        is_active=None if is_active is None else is_active == "1",
        hangup_cause=present("hangupCause"),
        call_session_state=present("callSessionState"),
        status=present("status"),
        call_start_time=parse_call_start_time(present("callStartTime")),
        duration_seconds=int(Decimal(duration)) if duration is not None else None,
        currency_code=present("currencyCode"),
        amount=present("amount"),
    )
