"""The call event store: SQLAlchemy 2 over SQLite (default) or PostgreSQL, each database's
differences in one strategy of its own (``dialect.py``)."""

from __future__ import annotations

from at_voice_kit.service.store.dialect import create_database_engine
from at_voice_kit.service.store.events import EventStore
from at_voice_kit.service.store.outcome import CallOutcome, derive_outcome
from at_voice_kit.service.store.queries import CallHistory, CallPage, CallSummary
from at_voice_kit.service.store.records import AppendResult, CallEvent, EventSource

__all__ = [
    "AppendResult",
    "CallEvent",
    "CallHistory",
    "CallOutcome",
    "CallPage",
    "CallSummary",
    "EventSource",
    "EventStore",
    "create_database_engine",
    "derive_outcome",
]
