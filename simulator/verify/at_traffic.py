"""Which requests AT could send: the rule that decides what counts against an app.

verify's verdict is meant to be AT's, so only a request AT could send fails a run. The call
engine's payload functions are the one definition of AT's traffic (``engine/payloads.py``,
checked against recorded payloads): a simulated call sends nothing else. The request scenarios
vary those payloads (a field left out, another spelling, forms generated from the contract),
and some variations go beyond anything AT sends: ``direction`` in lower case, a ``+`` that
arrived as a space, a number that is no phone number, a field AT sends on every request left
out. :func:`beyond_at` names the first such difference; verify then reports the request's
findings apart, as robustness probes (warnings, failing a run only with ``--strict``).

A field is sent on every request of a kind (live callback, final callback, event) when every
payload of that kind the engine builds carries it; AT's own documented example leaves out
``callerCarrierName``, so its absence is something AT does send.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping

from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.contracts.vocabulary import Direction, EventType, HangupCause
from at_voice_kit.contracts.wire import InvalidCallStartTime, parse_call_start_time
from at_voice_kit.simulator.engine.session_ids import SESSION_ID
from at_voice_kit.simulator.verify.exchanges import Role
from at_voice_kit.simulator.verify.payloads import CallPayloads

Fields = Iterable[tuple[str, str]]

SOMETIMES_OMITTED = frozenset({"callerCarrierName"})
"""Fields the engine always sends that AT leaves out at times: its documented example of a
final request (``at-voice-api.md`` section 2) has no ``callerCarrierName``."""

_SAMPLE_SESSION = "ATVId_" + "0" * 32
_SAMPLE_PHONE = "+254711082369"
_SAMPLE_AT_NUMBER = "+254711082000"
_WORD = re.compile(r"[A-Za-z_]{1,64}\Z")
_WHOLE = re.compile(r"[0-9]{1,9}\Z")
_AMOUNT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
_COUNTRY_CODE = re.compile(r"[0-9]{1,3}\Z")
_DIGITS = re.compile(r"[0-9*#]{1,64}\Z")
_CARRIER = re.compile(r"[^\x00-\x1f\x7f]{1,64}\Z")
_SIP = re.compile(r"[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9.-]{1,190}\Z")


def _kind(role: Role) -> str:
    return {Role.FINAL: "final", Role.EVENT: "event"}.get(role, "live")


@functools.cache
def always_sent() -> Mapping[str, frozenset[str]]:
    """Per kind of request (``live``, ``final``, ``event``), the fields AT sends on every one."""
    samples: dict[str, list[frozenset[str]]] = {"live": [], "final": [], "event": []}
    for direction in Direction:
        call = CallPayloads(_SAMPLE_SESSION, direction, _SAMPLE_PHONE, _SAMPLE_AT_NUMBER)
        samples["live"] += [_names(call.first()), _names(call.with_digits("1"))]
        samples["final"] += [_names(call.final()), _names(call.final(HangupCause.USER_BUSY))]
        for event in EventType:
            samples["event"].append(_names(call.event(event)))
        samples["event"].append(_names(call.event(EventType.SESSION_FAILED, HangupCause.NO_ANSWER)))
    return {
        kind: frozenset.intersection(*names) - SOMETIMES_OMITTED for kind, names in samples.items()
    }


def _names(fields: Fields) -> frozenset[str]:
    return frozenset(name for name, _ in fields)


def beyond_at(role: Role, fields: Fields) -> str | None:
    """Why AT would never send this request as ``role``, or ``None`` when it could.

    Fields AT has not documented are fine (AT adds fields without notice), and so are values
    of its open vocabularies (an ``eventType`` or ``hangupCause`` nobody has listed yet).
    """
    present = dict(fields)
    for name in sorted(always_sent()[_kind(role)]):
        if name not in present:
            return f"AT sends {name} on every {_KIND_PHRASE[_kind(role)]}; this one has none"
    for name, value in present.items():
        check = _VALUE_RULES.get(name)
        problem = check(value) if check is not None else None
        if problem is not None:
            return f"{name} {_shown(value)} {problem}"
    return None


_KIND_PHRASE = {"live": "callback request", "final": "final request", "event": "event"}


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _pattern(pattern: re.Pattern[str], rule: str) -> Callable[[str], str | None]:
    return lambda value: None if pattern.match(value) else rule


def _number(value: str) -> str | None:
    if _SIP.match(value):
        return None
    try:
        written = normalise_international(value)
    except InvalidPhoneNumber:
        written = None
    if written != value:
        return "is not a phone number as AT writes it ('+', then a number valid in its country)"
    return None


def _call_start_time(value: str) -> str | None:
    try:
        parse_call_start_time(value)
    except InvalidCallStartTime as exc:
        return exc.rule
    return None if value.strip() == value and value else "is not a time AT writes"


def _recording_url(value: str) -> str | None:
    return None if not value or http_url_problem(value) is None else "is not an http(s) URL"


_VALUE_RULES: dict[str, Callable[[str], str | None]] = {
    "isActive": _pattern(re.compile(r"[01]\Z"), "is not 1 or 0"),
    "sessionId": _pattern(SESSION_ID, "is not a session id AT issues (ATVId_ and 32 hex digits)"),
    "direction": _pattern(
        re.compile(r"(Inbound|Outbound)\Z"), "is not how AT writes it (Inbound or Outbound)"
    ),
    "callerNumber": _number,
    "destinationNumber": _number,
    "dialDestinationNumber": _number,
    "callerCountryCode": _pattern(_COUNTRY_CODE, "is not a country calling code"),
    "callerCarrierName": _pattern(_CARRIER, "is not a carrier's name"),
    "callStartTime": _call_start_time,
    "dialStartTime": _call_start_time,
    "durationInSeconds": _pattern(_WHOLE, "is not a whole number of seconds"),
    "dialDurationInSeconds": _pattern(_WHOLE, "is not a whole number of seconds"),
    "amount": _pattern(_AMOUNT, "is not an amount"),
    "currencyCode": _pattern(_CURRENCY, "is not a currency code"),
    "dtmfDigits": _pattern(_DIGITS, "are not keys of a phone"),
    "recordingUrl": _recording_url,
    "callSessionState": _pattern(_WORD, "is not a word of AT's vocabulary"),
    "status": _pattern(_WORD, "is not a word of AT's vocabulary"),
    "hangupCause": _pattern(_WORD, "is not a word of AT's vocabulary"),
    "eventType": _pattern(_WORD, "is not a word of AT's vocabulary"),
}
"""How AT writes each field it documents (``at-voice-api.md`` section 2)."""
