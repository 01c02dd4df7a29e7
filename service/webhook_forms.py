"""AT's webhook forms, parsed once at the edge into typed records, or rejected field by field.

AT posts form fields to the callback URL (``/voice/instruct``) and the events URL
(``/voice/events``). Every field AT is known to send is checked against its rule, and the
rules are the patterns of ``contracts/service.yaml`` (one definition for the service, its
OpenAPI contract and the simulator). Fields AT has not documented are kept as received (AT
adds fields without notice, and a webhook that rejects them would end real calls) unless
``VOICE_STRICT_FIELDS`` asks for a 400 instead: the developers' guide lists unknown fields as
bad input, but for AT's own webhooks refusing them would break calls, so it is an option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from at_voice_kit.contracts.service_contract import FormRules, form_rules
from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.contracts.wire import parse_call_start_time
from at_voice_kit.service.store import CallEvent, EventSource

_RULE_TEXT = {
    "sessionId": "must be 1 to 128 printable characters without spaces",
    "isActive": "must be 1 (call live) or 0 (final request)",
    "direction": "must be Inbound or Outbound",
    "callerNumber": "must be 1 to 64 printable characters without spaces",
    "destinationNumber": "must be 1 to 64 printable characters without spaces",
    "dialDestinationNumber": "must be up to 64 printable characters without spaces",
    "callerCountryCode": "must be a country calling code such as 254 (or -1, AT's WebRTC client)",
    "callerCarrierName": "must be up to 64 characters of text",
    "callStartTime": "must be 'YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD+HH:MM:SS' (a real date, "
    "1900-2099) or 'None'",
    "dialStartTime": "must be 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD+HH:MM:SS'",
    "dtmfDigits": "must be up to 64 of 0-9, * and #",
    "recordingUrl": "must be an http(s) URL (or empty)",
    "durationInSeconds": "must be a whole number of seconds, at most 6 digits",
    "dialDurationInSeconds": "must be a whole number of seconds, at most 6 digits",
    "currencyCode": "must be a three-letter ISO 4217 code such as KES",
    "amount": "must be a decimal amount such as 5.00 (up to 9 digits, 20 decimals)",
    "clientRequestId": "must be 1 to 128 printable characters",
}
"""Each known field's rule in words; the rule itself is the pattern in contracts/service.yaml."""
_WORD_RULE = "must be up to 64 letters, digits, '_', '-' or spaces"


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


PARTY_FIELDS = ("callerNumber", "destinationNumber", "dialDestinationNumber")


def restore_unencoded_plus(value: str) -> str:
    """``" 254711..."`` -> ``"+254711..."``: a ``+`` sent unencoded decodes to a space.

    The service docs' own curl examples (``-d "callerNumber=+254711XXXYYY"``) send it so.
    """
    if value.startswith(" ") and value[1:2].strip():
        return "+" + value[1:]
    return value


def _validate(form: Mapping[str, object], rules: FormRules, *, strict: bool) -> dict[str, str]:
    if len(form) > rules.max_fields:
        raise InvalidForm([FieldProblem("(form)", f"must have at most {rules.max_fields} fields")])
    problems: list[FieldProblem] = []
    fields: dict[str, str] = {}
    known = rules.fields
    for name, value in form.items():
        rule = known.get(name)
        if rule is not None and isinstance(value, str) and rule.accepts(value):
            # The usual case, checked inline (every field of every webhook): a known field
            # keeping its rule; anything else is judged, and named, by _field_problem.
            fields[name] = restore_unencoded_plus(value) if name in PARTY_FIELDS else value
            continue
        problem = _field_problem(name, value, rules, strict=strict)
        if problem is not None:
            problems.append(FieldProblem(name[:64], problem))
        elif isinstance(value, str):
            fields[name] = restore_unencoded_plus(value) if name in PARTY_FIELDS else value
    missing = sorted(rules.required - set(form))
    problems.extend(FieldProblem(name, "is required") for name in missing)
    if problems:
        raise InvalidForm(problems)
    return fields


def _field_problem(name: str, value: object, rules: FormRules, *, strict: bool) -> str | None:
    rule = rules.fields.get(name)
    # Known names keep the name pattern (form_rules checks it): only others need the check.
    if rule is None and not rules.field_name.match(name):
        return "is not a valid field name (a letter, then letters, digits, '_', '.', '-')"
    if not isinstance(value, str):
        return "must be given once"
    if rule is None:
        if strict:
            return "is not a field Africa's Talking sends (VOICE_STRICT_FIELDS is on)"
        if not rules.extra_field.accepts(value):
            return "must be at most 2048 characters without control characters"
        return None
    if not rule.accepts(value):
        return _RULE_TEXT.get(name, _WORD_RULE)
    return None


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


def value_problem(name: str, value: str) -> str | None:
    """The rule ``value`` breaks as a value of AT's field ``name``, in words, or ``None``.

    For query parameters that look for what webhooks stored (the call history's filters):
    they keep the webhooks' rules, so nothing the store cannot hold reaches a query.
    """
    rule = form_rules("EventForm").fields[name]
    return None if rule.accepts(value) else _RULE_TEXT.get(name, _WORD_RULE)


def load_form_rules() -> None:
    """Read both forms' rules from the contract now (at start-up), not at the first webhook."""
    form_rules("CallbackForm")
    form_rules("EventForm")


def parse_callback(form: Mapping[str, object], *, strict: bool = False) -> CallbackRequest:
    """Validate a callback form; :class:`InvalidForm` lists every bad field."""
    fields = _validate(form, form_rules("CallbackForm"), strict=strict)
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
    fields = _validate(form, form_rules("EventForm"), strict=strict)
    # AT's "absent" is often an empty value: an empty eventType names no kind either.
    return _event(EventSource.EVENT, fields.get("eventType") or "Notification", fields)


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
