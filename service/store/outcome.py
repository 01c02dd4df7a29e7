"""A call's outcome, derived from the set of its events: pure, no I/O.

AT may redeliver a notification and deliver notifications out of order, so the outcome must
depend only on *which* events arrived, never on their order. Each attribute is taken from the
most authoritative event that carries it (the final callback, then a terminal event, then any
other), ties broken by the event's content rather than by arrival.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.vocabulary import TERMINAL_EVENT_TYPES, EventType

IN_PROGRESS = "InProgress"
REQUESTED = "Requested"
FAILED = "Failed"

_ATTRIBUTE_FIELDS = {
    "direction": "direction",
    "caller_number": "callerNumber",
    "destination_number": "destinationNumber",
    "hangup_cause": "hangupCause",
    "call_session_state": "callSessionState",
    "call_start_time": "callStartTime",
    "duration_seconds": "durationInSeconds",
    "currency_code": "currencyCode",
    "amount": "amount",
}
"""Outcome attribute -> the AT field it comes from."""


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What became of a call, as far as its events tell."""

    status: str
    ended: bool
    direction: str | None = None
    caller_number: str | None = None
    destination_number: str | None = None
    hangup_cause: str | None = None
    call_session_state: str | None = None
    call_start_time: datetime | None = None
    duration_seconds: int | None = None
    currency_code: str | None = None
    amount: str | None = None


def _precedence(row: Mapping[Any, Any]) -> int:
    if row["source"] == "callback" and row["is_active"] is False:
        return 3
    if row["source"] == "event" and row["kind"] in TERMINAL_EVENT_TYPES:
        return 2
    if row["source"] == "api":
        return 0
    return 1


def _content_key(row: Mapping[Any, Any]) -> str:
    return json.dumps(row["fields"], sort_keys=True, default=str)


def derive_outcome(events: Iterable[Mapping[Any, Any]]) -> CallOutcome:
    """Derive a call's outcome from its events (rows of ``call_events``), in any order."""
    ranked = sorted(events, key=lambda row: (_precedence(row), _content_key(row)), reverse=True)
    if not ranked:
        raise ValueError("a call has at least one event")
    values: dict[str, Any] = {}
    for name, wire_name in _ATTRIBUTE_FIELDS.items():
        # The most authoritative event that *gives* the field wins, even when it gives
        # "None" (an unanswered call's callStartTime): lesser events cannot fill it in.
        values[name] = next((row[name] for row in ranked if row["fields"].get(wire_name)), None)
    best = ranked[0]
    ended = _precedence(best) >= 2
    # Only the final request carries AT's own verdict.
    status = best["status"] if _precedence(best) == 3 else None
    if status is None and ended:
        status = _status_of_ended_call(best, values["duration_seconds"])
    elif status is None:
        status = IN_PROGRESS if _precedence(best) == 1 else REQUESTED
    return CallOutcome(status=status, ended=ended, **values)


def _status_of_ended_call(best: Mapping[Any, Any], duration: int | None) -> str:
    """Name the outcome AT's final ``status`` would have given, when no event carried one."""
    if best["kind"] == EventType.SESSION_FAILED:
        return FAILED
    return "Success" if duration is not None and duration > 0 else "NotAnswered"
