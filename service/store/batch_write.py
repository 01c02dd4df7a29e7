"""A batch of call events as both databases write it, and each call's outcome merged into it.

Each database writes a batch its own way (``sqlite_batch_write.py``, ``postgres.py``); what
they share is here, and the fold of the batch's events into their calls' outcomes
(``call_fold.py``). What needs no database (each event's dedup key, row, rank and, on SQLite,
driver values) is prepared on the event loop as the event arrives (:class:`PreparedEvent`),
so the writer lock is held for the statements and the commit alone.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from at_voice_kit.service.store.outcome import Rank, event_rank
from at_voice_kit.service.store.records import AppendResult, CallEvent

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
        row = _event_row(view, key, event.fields)
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


def event_view(event: CallEvent) -> dict[str, Any]:
    """The keys :meth:`OutcomeDerivation.merge` reads, from an event about to be stored."""
    view: dict[str, Any] = {name: getattr(event, name) for name in EVENT_COLUMNS}
    view.update(
        session_id=event.session_id, source=event.source.value, kind=event.kind, fields=event.fields
    )
    return view


def _event_row(
    view: Mapping[str, Any], dedup_key: str, fields: Mapping[str, str]
) -> dict[str, Any]:
    """The ``call_events`` row: the event's view (its columns, received_at included) with
    its dedup key and a copy of its fields, without reading the event's attributes again."""
    row = dict(view)
    row.update(dedup_key=dedup_key, fields=dict(fields))
    return row
