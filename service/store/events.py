"""Appending call events: durable, idempotent, and keeping each call's derived outcome current.

An event is acknowledged only after :meth:`EventStore.append` returns, which is after its
transaction committed. Redeliveries (same source and identical fields) are stored once: the
unique ``dedup_key`` makes the second insert a no-op, in one statement, race-free across
workers and instances.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from service.store.database import read_connection
from service.store.outcome import derive_outcome
from service.store.queries import CallHistory, CallPage, get_call, list_calls
from service.store.schema import call_events, calls, migrate


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
        canonical = json.dumps(
            [self.source.value, self.extra_key, sorted(self.fields.items())],
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The outcome of appending one event."""

    stored: bool
    """False when the event was a redelivery of one already stored."""


_EVENT_COLUMNS = (
    "direction",
    "caller_number",
    "destination_number",
    "is_active",
    "hangup_cause",
    "call_session_state",
    "status",
    "call_start_time",
    "duration_seconds",
    "currency_code",
    "amount",
)


class EventStore:
    """The event log and the per-call outcomes derived from it."""

    def __init__(
        self, engine: sa.Engine, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engine = engine
        self._now = now
        self._insert: Callable[[sa.Table], Any] = (
            postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        )

    def migrate(self) -> int:
        """Create or upgrade the schema; return its version."""
        return migrate(self.engine)

    def ping(self) -> None:
        """Raise if the database cannot answer a query right now."""
        with read_connection(self.engine) as connection:
            connection.execute(sa.text("SELECT 1"))

    def list_calls(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        number: str | None = None,
        status: str | None = None,
    ) -> CallPage:
        """A page of calls, newest first; see :func:`service.store.queries.list_calls`."""
        with read_connection(self.engine) as connection:
            return list_calls(connection, limit=limit, cursor=cursor, number=number, status=status)

    def get_call(self, session_id: str) -> CallHistory | None:
        """One call and all its events, or ``None``."""
        with read_connection(self.engine) as connection:
            return get_call(connection, session_id)

    def append(self, event: CallEvent) -> AppendResult:
        """Store ``event`` durably (committed when this returns) unless it is a redelivery."""
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[CallEvent]) -> list[AppendResult]:
        """Store several events in one transaction: one commit (one fsync) for all of them."""
        results: list[AppendResult] = []
        received_at = self._now()
        with self.engine.begin() as connection:
            touched: set[str] = set()
            for event in events:
                stored = self._insert_event(connection, event, received_at)
                results.append(AppendResult(stored=stored))
                if stored:
                    touched.add(event.session_id)
            for session_id in sorted(touched):  # sorted: a fixed lock order across workers
                self._refresh_call(connection, session_id, received_at)
        return results

    def _insert_event(
        self, connection: sa.Connection, event: CallEvent, received_at: datetime
    ) -> bool:
        values: dict[str, Any] = {name: getattr(event, name) for name in _EVENT_COLUMNS}
        statement = (
            self._insert(call_events)
            .values(
                session_id=event.session_id,
                source=event.source.value,
                kind=event.kind,
                dedup_key=event.dedup_key(),
                received_at=received_at,
                fields=dict(event.fields),
                **values,
            )
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(call_events.c.id)
        )
        # RETURNING, not rowcount: psycopg reports no reliable rowcount for this statement.
        return connection.execute(statement).first() is not None

    def _refresh_call(self, connection: sa.Connection, session_id: str, now: datetime) -> None:
        # Create the row if needed, then lock it: concurrent appends to one call serialise
        # here (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already serialises writers).
        connection.execute(
            self._insert(calls)
            .values(
                session_id=session_id,
                first_seen_at=now,
                last_event_at=now,
                event_count=0,
                status="Requested",
                ended=False,
            )
            .on_conflict_do_nothing(index_elements=["session_id"])
        )
        connection.execute(
            sa.select(calls.c.session_id).where(calls.c.session_id == session_id).with_for_update()
        )
        rows = (
            connection.execute(sa.select(call_events).where(call_events.c.session_id == session_id))
            .mappings()
            .all()
        )
        outcome = derive_outcome(rows)
        connection.execute(
            calls.update()
            .where(calls.c.session_id == session_id)
            .values(
                first_seen_at=min(_aware(row["received_at"]) for row in rows),
                last_event_at=max(_aware(row["received_at"]) for row in rows),
                event_count=len(rows),
                status=outcome.status,
                ended=outcome.ended,
                direction=outcome.direction,
                caller_number=outcome.caller_number,
                destination_number=outcome.destination_number,
                hangup_cause=outcome.hangup_cause,
                call_session_state=outcome.call_session_state,
                call_start_time=outcome.call_start_time,
                duration_seconds=outcome.duration_seconds,
                currency_code=outcome.currency_code,
                amount=outcome.amount,
            )
        )


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything this store writes is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
