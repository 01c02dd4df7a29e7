"""Reading call history: pages of calls, newest first, and one call with all its events."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from at_voice_kit.service.store.outcome import CallOutcome
from at_voice_kit.service.store.schema import call_events, calls


class InvalidCursor(ValueError):
    """A pagination cursor this service did not issue."""


@dataclass(frozen=True, slots=True)
class CallSummary:
    """One row of the call list: the call and its derived outcome."""

    session_id: str
    first_seen_at: datetime
    last_event_at: datetime
    event_count: int
    outcome: CallOutcome


@dataclass(frozen=True, slots=True)
class CallPage:
    """A page of calls and the cursor of the next page (``None`` on the last page)."""

    calls: list[CallSummary]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored: when it arrived, where from, and every field as received."""

    id: int
    source: str
    kind: str
    received_at: datetime
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class CallHistory:
    """One call: its summary and every event in arrival order."""

    summary: CallSummary
    events: list[StoredEvent]


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware datetime: SQLite returns naive ones, and the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _summary(row: Any) -> CallSummary:
    return CallSummary(
        session_id=row.session_id,
        first_seen_at=as_utc(row.first_seen_at),
        last_event_at=as_utc(row.last_event_at),
        event_count=row.event_count,
        outcome=CallOutcome(
            status=row.status,
            ended=row.ended,
            direction=row.direction,
            caller_number=row.caller_number,
            destination_number=row.destination_number,
            hangup_cause=row.hangup_cause,
            call_session_state=row.call_session_state,
            call_start_time=row.call_start_time,
            duration_seconds=row.duration_seconds,
            currency_code=row.currency_code,
            amount=row.amount,
        ),
    )


def encode_cursor(summary: CallSummary) -> str:
    """An opaque cursor pointing just after ``summary`` in newest-first order."""
    raw = json.dumps([summary.first_seen_at.isoformat(), summary.session_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_SESSION_ID = re.compile(r"[!-~]{1,128}")
"""What a stored session id looks like (the webhooks' rule): nothing else goes in a query."""


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Inverse of :func:`encode_cursor`; :class:`InvalidCursor` for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, session_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        # In UTC, as issued: another offset could move it out of the datetime range.
        after = as_utc(datetime.fromisoformat(moment)).astimezone(UTC)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise InvalidCursor(cursor)
    return after, session_id


def list_calls(
    connection: sa.Connection,
    *,
    limit: int,
    cursor: str | None = None,
    number: str | None = None,
    status: str | None = None,
) -> CallPage:
    """Calls newest first (by first event), filtered by a party's number and/or status."""
    query = sa.select(calls).order_by(calls.c.first_seen_at.desc(), calls.c.session_id.desc())
    if number is not None:
        query = query.where(
            sa.or_(calls.c.caller_number == number, calls.c.destination_number == number)
        )
    if status is not None:
        query = query.where(calls.c.status == status)
    if cursor is not None:
        after_time, after_session = decode_cursor(cursor)
        query = query.where(
            sa.or_(
                calls.c.first_seen_at < after_time,
                sa.and_(calls.c.first_seen_at == after_time, calls.c.session_id < after_session),
            )
        )
    rows = connection.execute(query.limit(limit + 1)).all()
    page = [_summary(row) for row in rows[:limit]]
    next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
    return CallPage(calls=page, next_cursor=next_cursor)


def get_call(connection: sa.Connection, session_id: str) -> CallHistory | None:
    """One call with every event in arrival order, or ``None`` if no event names it."""
    row = connection.execute(sa.select(calls).where(calls.c.session_id == session_id)).first()
    if row is None:
        return None
    events = connection.execute(
        sa.select(call_events)
        .where(call_events.c.session_id == session_id)
        # Each event is timed as it arrives; ids follow the order of the batch's inserts.
        .order_by(call_events.c.received_at, call_events.c.id)
    ).all()
    return CallHistory(
        summary=_summary(row),
        events=[
            StoredEvent(
                id=event.id,
                source=event.source,
                kind=event.kind,
                received_at=as_utc(event.received_at),
                fields=dict(event.fields),
            )
            for event in events
        ],
    )
