"""A batch of call events as both databases write it, and each call's outcome merged into it.

Each database writes a batch its own way (``sqlite_batch_write.py``, ``postgres.py``); what
they share is here. The outcome is merged incrementally
(:class:`at_voice_kit.service.store.outcome.OutcomeDerivation`): the call's earlier events are
not read again. What needs no database (each event's dedup key, row, rank and, on SQLite,
driver values) is prepared on the event loop as the event arrives (:class:`PreparedEvent`),
so the writer lock is held for the statements and the commit alone.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from at_voice_kit.service.store.outcome import ATTRIBUTE_FIELDS, OutcomeDerivation, Rank, event_rank
from at_voice_kit.service.store.queries import as_utc
from at_voice_kit.service.store.records import AppendResult, CallEvent
from at_voice_kit.service.store.schema import call_events

EVENT_COLUMNS = (
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
"""Typed columns of ``call_events`` copied from the :class:`CallEvent` of the same name."""

UPDATED_COLUMNS = (
    "session_id",
    "first_seen_at",
    "last_event_at",
    "event_count",
    "status",
    "ended",
    "derivation",
    *ATTRIBUTE_FIELDS,
)
"""The ``calls`` columns a merge writes."""


SessionEvents = dict[str, list[tuple[dict[str, Any], Rank]]]
"""Session id -> the merge views and ranks of its newly stored events, in batch order.

Each view also carries the event's ``received_at``, from which the call's first and last
event times are kept.
"""


@dataclass(frozen=True, slots=True)
class PreparedEvent:
    """One event with everything computed that needs no database: done by the request's own
    thread, before it queues for the writer lock, so the lock is held only for the writes."""

    session_id: str
    key: str
    """The dedup key (:meth:`CallEvent.dedup_key`)."""
    row: dict[str, Any]
    """The ``call_events`` row."""
    merge_view: tuple[dict[str, Any], Rank]
    """What the outcome derivation needs of the event, and its rank."""
    driver_values: tuple[Any, ...] = ()
    """The row's values as the database driver takes them, when the writer binds them itself."""
    # The dicts are shared with the retries of a failed batch (one event at a time): writers
    # read them and never change them.

    @classmethod
    def of(
        cls,
        event: CallEvent,
        received_at: datetime,
        bind: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None,
    ) -> PreparedEvent:
        """Prepare ``event``, received at ``received_at``; ``bind`` gives the driver values."""
        key = event.dedup_key()
        view = event_view(event)
        view["received_at"] = received_at
        row = _event_row(event, key, received_at)
        return cls(
            session_id=event.session_id,
            key=key,
            row=row,
            merge_view=(view, event_rank(view)),
            driver_values=bind(row) if bind is not None else (),
        )


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """The prepared events that share one transaction, in the order they were submitted."""

    events: Sequence[PreparedEvent]
    first_of_key: dict[str, int]
    """Index of the first event with each key: later ones are redeliveries within the batch."""

    @classmethod
    def of(cls, events: Sequence[PreparedEvent]) -> PreparedBatch:
        """Batch ``events``."""
        first_of_key: dict[str, int] = {}
        for index, event in enumerate(events):
            first_of_key.setdefault(event.key, index)
        return cls(events=events, first_of_key=first_of_key)

    def distinct(self) -> list[PreparedEvent]:
        """The first event of each key, sorted by key: concurrent transactions then take the
        unique index's locks in one order."""
        return [self.events[index] for _, index in sorted(self.first_of_key.items())]

    def results(self, inserted: Container[str]) -> list[AppendResult]:
        """Each event's result, given the dedup keys this batch ``inserted``: stored only by
        the first event of its key (later ones are redeliveries within the batch)."""
        return [
            AppendResult(stored=event.key in inserted and self.first_of_key[event.key] == index)
            for index, event in enumerate(self.events)
        ]

    def stored_by_session(self, results: Sequence[AppendResult]) -> SessionEvents:
        """The stored events' merge views and ranks, by session, in batch order."""
        by_session: SessionEvents = {}
        for event, result in zip(self.events, results, strict=True):
            if result.stored:
                by_session.setdefault(event.session_id, []).append(event.merge_view)
        return by_session


def merged_call_values(
    connection: sa.Connection,
    row: Mapping[Any, Any] | None,
    new_events: Sequence[tuple[dict[str, Any], Rank]],
) -> dict[str, Any]:
    """A ``calls`` row's new values: its derivation with ``new_events`` merged in.

    ``row`` is the row as stored (``None`` for a call not stored yet).
    """
    derivation = _derivation_of(connection, row) if row is not None else OutcomeDerivation()
    for view, rank in new_events:
        derivation.merge(view, rank)
    outcome = derivation.outcome()
    count = row["event_count"] if row is not None else 0
    received = [view["received_at"] for view, _ in new_events]
    first_seen, last_event = min(received), max(received)
    if row is not None and count > 0:
        # Kept as first stored, even if an event timed earlier commits later: the call list's
        # cursor pages by first_seen_at, and a call must not move back into a page already read.
        first_seen = as_utc(row["first_seen_at"])
        last_event = max(as_utc(row["last_event_at"]), last_event)
    values: dict[str, Any] = {
        "session_id": new_events[0][0]["session_id"] if row is None else row["session_id"],
        "first_seen_at": first_seen,
        "last_event_at": last_event,
        "event_count": count + len(new_events),
        "status": outcome.status,
        "ended": outcome.ended,
        "derivation": derivation.state_json(),
    }
    for name in ATTRIBUTE_FIELDS:
        values[name] = getattr(outcome, name)
    return values


def _derivation_of(connection: sa.Connection, row: Mapping[Any, Any]) -> OutcomeDerivation:
    """The call's derivation so far: stored, empty for a new call, rebuilt for an old row."""
    if row["event_count"] == 0:
        return OutcomeDerivation()
    if row["derivation"] is not None:
        return OutcomeDerivation.from_state(row["derivation"], row)
    # Written before schema version 2: derive once from every event, then keep it current.
    derivation = OutcomeDerivation()
    events = connection.execute(
        sa.select(call_events).where(call_events.c.session_id == row["session_id"])
    ).mappings()
    for event in events:
        derivation.merge(event)
    return derivation


def event_view(event: CallEvent) -> dict[str, Any]:
    """The keys :meth:`OutcomeDerivation.merge` reads, from an event about to be stored."""
    view: dict[str, Any] = {name: getattr(event, name) for name in EVENT_COLUMNS}
    view.update(
        session_id=event.session_id, source=event.source.value, kind=event.kind, fields=event.fields
    )
    return view


def _event_row(event: CallEvent, dedup_key: str, received_at: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(event, name) for name in EVENT_COLUMNS}
    row.update(
        session_id=event.session_id,
        source=event.source.value,
        kind=event.kind,
        dedup_key=dedup_key,
        received_at=received_at,
        fields=dict(event.fields),
    )
    return row
