"""A call's outcome, derived from the set of its events: pure, no I/O.

AT may redeliver a notification and deliver notifications out of order, so the outcome must
depend only on *which* events arrived, never on their order. Each attribute is taken from the
most authoritative event that carries it (the final callback, then a terminal event, then any
other), ties broken by a digest of the event's content rather than by arrival.

The derivation is incremental: :class:`OutcomeDerivation` keeps, for each attribute, the rank
of the event that gave it, so merging one more event needs that small state and the event,
never the call's other events. Merging is a maximum per attribute under a total order, so
it is commutative and associative: any order of merges gives the same outcome, and
:func:`derive_outcome` (all events at once) is the same fold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from at_voice_kit.contracts.vocabulary import TERMINAL_EVENT_TYPES, EventType

IN_PROGRESS = "InProgress"
REQUESTED = "Requested"
FAILED = "Failed"

ATTRIBUTE_FIELDS = {
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

DIGEST_LENGTH = 32
"""Hex characters of the content digest kept in a rank (128 bits)."""

Rank = tuple[int, str]
"""How authoritative an event is: (precedence, content digest); greater wins."""


def rank_text(rank: Rank) -> str:
    """``rank`` as text that sorts as the rank does, compared byte by byte: the precedence
    digit, then the digest (hex digits of one length)."""
    return f"{rank[0]}{rank[1]}"


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


def precedence(source: str, kind: str, is_active: bool | None) -> int:
    """3: the final callback (AT's verdict); 2: a terminal event; 1: any other; 0: our own."""
    if source == "callback" and is_active is False:
        return 3
    if source == "event" and kind in TERMINAL_EVENT_TYPES:
        return 2
    if source == "api":
        return 0
    return 1


_DIGEST_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
"""The encoder of :func:`content_digest`'s canonical text, built once (``json.dumps`` with
options builds one per call, about a microsecond of every event)."""


def content_digest(source: str, kind: str, fields: Mapping[str, Any]) -> str:
    """A digest of an event's content, independent of field order: the tie-breaker of ranks.

    Equal digests mean equal source, kind and fields, hence equal values for every attribute.
    """
    canonical = _DIGEST_JSON.encode([str(source), kind, fields])
    return hashlib.sha256(canonical.encode()).hexdigest()[:DIGEST_LENGTH]


def event_rank(event: Mapping[Any, Any]) -> Rank:
    """The rank of an event (a row of ``call_events``, or the same keys as a mapping)."""
    return (
        precedence(event["source"], event["kind"], event["is_active"]),
        content_digest(event["source"], event["kind"], event["fields"]),
    )


@dataclass(slots=True)
class OutcomeDerivation:
    """The outcome of the events merged so far, and the ranks that let the next one merge.

    ``values`` holds the typed attribute values (they are also the ``calls`` row's columns);
    ``ranks`` the rank of the event each value came from; ``best`` the rank, kind and status
    of the most authoritative event, which decides whether the call ended and its status.
    """

    values: dict[str, Any] = field(default_factory=dict)
    ranks: dict[str, Rank] = field(default_factory=dict)
    best: Rank | None = None
    best_kind: str = ""
    best_status: str | None = None

    def merge(self, event: Mapping[Any, Any], rank: Rank | None = None) -> None:
        """Merge one event: a row of ``call_events``, or the same keys as a mapping.

        ``rank`` is :func:`event_rank` of the event, when the caller computed it already.
        """
        fields: Mapping[str, Any] = event["fields"]
        rank = rank if rank is not None else event_rank(event)
        for name, wire_name in ATTRIBUTE_FIELDS.items():
            # The most authoritative event that *gives* the field wins, even when it gives
            # "None" (an unanswered call's callStartTime): lesser events cannot fill it in.
            # Equal ranks mean equal content (see content_digest): keeping either is the same.
            if fields.get(wire_name) and (name not in self.ranks or rank > self.ranks[name]):
                self.values[name] = event[name]
                self.ranks[name] = rank
        if self.best is None or rank > self.best:
            self.best, self.best_kind, self.best_status = rank, event["kind"], event["status"]

    def outcome(self) -> CallOutcome:
        """The call's outcome as derived so far."""
        if self.best is None:
            raise ValueError("a call has at least one event")
        best_precedence = self.best[0]
        ended = best_precedence >= 2
        # Only the final request carries AT's own verdict.
        status = self.best_status if best_precedence == 3 else None
        if status is None and ended:
            status = _status_of_ended_call(self.best_kind, self.values.get("duration_seconds"))
        elif status is None:
            status = IN_PROGRESS if best_precedence == 1 else REQUESTED
        return CallOutcome(status=status, ended=ended, **self._attribute_values())

    def _attribute_values(self) -> dict[str, Any]:
        return {name: self.values.get(name) for name in ATTRIBUTE_FIELDS}

    def state_json(self) -> dict[str, Any]:
        """The ranks as JSON (the values are stored in their own columns)."""
        return {
            "best": None if self.best is None else [*self.best, self.best_kind, self.best_status],
            "ranks": {name: list(rank) for name, rank in self.ranks.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], values: Mapping[Any, Any]) -> OutcomeDerivation:
        """Rebuild from :meth:`state_json` and the stored attribute values."""
        derivation = cls(
            values={name: values[name] for name in ATTRIBUTE_FIELDS if name in state["ranks"]},
            ranks={name: (int(rank[0]), str(rank[1])) for name, rank in state["ranks"].items()},
        )
        best = state["best"]
        if best is not None:
            derivation.best = (int(best[0]), str(best[1]))
            derivation.best_kind, derivation.best_status = best[2], best[3]
        return derivation


def derive_outcome(events: Iterable[Mapping[Any, Any]]) -> CallOutcome:
    """Derive a call's outcome from its events (rows of ``call_events``), in any order."""
    derivation = OutcomeDerivation()
    for event in events:
        derivation.merge(event)
    return derivation.outcome()


def _status_of_ended_call(best_kind: str, duration: int | None) -> str:
    """Name the outcome AT's final ``status`` would have given, when no event carried one."""
    if best_kind == EventType.SESSION_FAILED:
        return FAILED
    return "Success" if duration is not None and duration > 0 else "NotAnswered"
