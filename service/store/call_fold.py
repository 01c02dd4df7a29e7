"""Each call's outcome kept current by the database: a batch's new events folded into their
calls' rows in one upsert, without reading the rows first.

Merging events into an outcome is a maximum per attribute under a total order (the event's
rank, ``outcome.py``), so it can be done in two steps: the batch's new events of one call
are merged in Python into a *delta* row (its values, the rank each came with, the best
event's rank, kind and status, its first and last arrival, how many events), and the
database merges that delta into the stored row, column by column, keeping whichever rank
is greater. Ranks are stored as text that sorts as the rank does (the precedence digit, then
the content digest in hex; compared byte by byte, ``COLLATE "C"`` on PostgreSQL), one
column per attribute (schema version 3). The status follows from the merged best event and
duration, as :meth:`OutcomeDerivation.outcome` derives it. One statement for the whole
batch, the same on SQLite and PostgreSQL (each gives its ``INSERT`` construct); on
PostgreSQL the rows are upserted in session order, so concurrent writers take the rows'
locks in one order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from at_voice_kit.contracts.vocabulary import EventType
from at_voice_kit.service.store.batch_write import SessionEvents
from at_voice_kit.service.store.outcome import (
    ATTRIBUTE_FIELDS,
    FAILED,
    IN_PROGRESS,
    REQUESTED,
    OutcomeDerivation,
    rank_text,
)
from at_voice_kit.service.store.schema import RANK_COLUMNS, calls

FOLDED_COLUMNS = (
    "session_id",
    "first_seen_at",
    "last_event_at",
    "event_count",
    "status",
    "ended",
    *ATTRIBUTE_FIELDS,
    *RANK_COLUMNS,
)
"""The ``calls`` columns a delta row carries."""


def delta_rows(by_session: SessionEvents) -> list[dict[str, Any]]:
    """One delta row per call of the batch, in session order: its new events merged."""
    rows = []
    for session_id in sorted(by_session):
        events = by_session[session_id]
        derivation = OutcomeDerivation()
        for view, rank in events:
            derivation.merge(view, rank)
        outcome = derivation.outcome()
        received = [view["received_at"] for view, _ in events]
        row: dict[str, Any] = {
            "session_id": session_id,
            "first_seen_at": min(received),
            "last_event_at": max(received),
            "event_count": len(events),
            "status": outcome.status,
            "ended": outcome.ended,
        }
        row.update((name, getattr(outcome, name)) for name in ATTRIBUTE_FIELDS)
        row.update(rank_columns(derivation))
        rows.append(row)
    return rows


def rank_columns(derivation: OutcomeDerivation) -> dict[str, str | None]:
    """The rank columns of ``derivation``: each attribute's rank, and the best event's."""
    columns: dict[str, str | None] = {
        f"rank_{name}": rank_text(derivation.ranks[name]) if name in derivation.ranks else None
        for name in ATTRIBUTE_FIELDS
    }
    best = derivation.best
    columns["best_rank"] = rank_text(best) if best is not None else None
    columns["best_kind"] = derivation.best_kind if best is not None else None
    columns["best_status"] = derivation.best_status
    return columns


def calls_upsert(insert: Callable[[sa.Table], Any]) -> Any:
    """The statement folding delta rows into ``calls``, from the dialect's ``insert``."""
    statement = insert(calls).values({name: sa.bindparam(name) for name in FOLDED_COLUMNS})
    new = statement.excluded
    merged: dict[str, Any] = {}
    for name in ATTRIBUTE_FIELDS:
        newer = new[f"rank_{name}"] > sa.func.coalesce(calls.c[f"rank_{name}"], _text(""))
        merged[name] = sa.case((newer, new[name]), else_=calls.c[name])
        merged[f"rank_{name}"] = sa.case(
            (newer, new[f"rank_{name}"]), else_=calls.c[f"rank_{name}"]
        )
    best_newer = new.best_rank > sa.func.coalesce(calls.c.best_rank, _text(""))
    for name in ("best_rank", "best_kind", "best_status"):
        merged[name] = sa.case((best_newer, new[name]), else_=calls.c[name])
    precedence = sa.func.substr(merged["best_rank"], _number(1), _number(1))
    merged["ended"] = precedence >= _text("2")
    merged["status"] = _status(
        precedence, merged["best_kind"], merged["best_status"], merged["duration_seconds"]
    )
    merged["last_event_at"] = sa.case(
        (new.last_event_at > calls.c.last_event_at, new.last_event_at),
        else_=calls.c.last_event_at,
    )
    merged["event_count"] = calls.c.event_count + new.event_count
    # first_seen_at is kept as first stored: the call list's cursor pages by it, and a call
    # must not move back into a page already read.
    return statement.on_conflict_do_update(index_elements=["session_id"], set_=merged)


def _status(precedence: Any, best_kind: Any, best_status: Any, duration: Any) -> Any:
    """:meth:`OutcomeDerivation.outcome`'s status, in SQL."""
    ended_status = sa.case(
        (best_kind == _text(EventType.SESSION_FAILED.value), _text(FAILED)),
        (duration > _number(0), _text("Success")),
        else_=_text("NotAnswered"),
    )
    return sa.case(
        (sa.and_(precedence == _text("3"), best_status.is_not(None)), best_status),
        (precedence >= _text("2"), ended_status),
        (precedence == _text("1"), _text(IN_PROGRESS)),
        else_=_text(REQUESTED),
    )


def _text(value: str) -> Any:
    """A constant of the statement, written into its SQL (no parameter to bind per row): the
    statement's only parameters are the delta row's columns, in :data:`FOLDED_COLUMNS`."""
    return sa.literal_column(f"'{value}'", sa.String)


def _number(value: int) -> Any:
    """A whole number written into the statement's SQL, as :func:`_text`."""
    return sa.literal_column(str(value), sa.Integer)
