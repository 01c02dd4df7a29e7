"""The records the event store takes and gives: events as received, and append results."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

_CANONICAL_JSON = json.JSONEncoder(separators=(",", ":"))
"""The encoder of dedup keys' canonical text, built once: ``json.dumps`` with any option
builds a new encoder on every call, about a microsecond of every event."""


class EventSource(StrEnum):
    """Where an event came from."""

    CALLBACK = "callback"
    """A request to the callback URL (``/voice/instruct``)."""
    EVENT = "event"
    """A notification to the events URL (``/voice/events``)."""
    API = "api"
    """A call placed by this service (``/voice/invoke-call``)."""


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One thing that happened to a call, typed at the edge, with every field as received."""

    session_id: str
    source: EventSource
    kind: str
    fields: Mapping[str, str]
    redelivery_is_duplicate: bool = True
    direction: str | None = None
    caller_number: str | None = None
    destination_number: str | None = None
    is_active: bool | None = None
    hangup_cause: str | None = None
    call_session_state: str | None = None
    status: str | None = None
    call_start_time: datetime | None = None
    duration_seconds: int | None = None
    currency_code: str | None = None
    amount: str | None = None
    extra_key: str = field(default="")

    def dedup_key(self) -> str:
        """Identical redeliveries share a key; events that are never duplicates get a unique one."""
        if not self.redelivery_is_duplicate:
            return uuid.uuid4().hex + uuid.uuid4().hex
        canonical = _CANONICAL_JSON.encode(
            [self.source.value, self.extra_key, sorted(self.fields.items())]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The outcome of appending one event."""

    stored: bool
    """False when the event was a redelivery of one already stored."""
