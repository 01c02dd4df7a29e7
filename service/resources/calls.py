"""``GET /voice/calls`` and ``GET /voice/calls/{sessionId}``: the stored call history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import falcon
import falcon.asgi

from at_voice_kit.contracts.service_contract import query_values
from at_voice_kit.service.blocking import BlockingCalls
from at_voice_kit.service.errors import ProblemError, field_error
from at_voice_kit.service.store import CallSummary, EventStore
from at_voice_kit.service.store.queries import CallHistory
from at_voice_kit.service.webhook_forms import value_problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
LIST_PARAMETERS = frozenset({"limit", "cursor", "number", "status"})


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def summary_json(summary: CallSummary) -> dict[str, Any]:
    """A call and its derived outcome, with AT's field names."""
    outcome = summary.outcome
    return {
        "sessionId": summary.session_id,
        "firstSeenAt": _time(summary.first_seen_at),
        "lastEventAt": _time(summary.last_event_at),
        "eventCount": summary.event_count,
        "outcome": {
            "status": outcome.status,
            "ended": outcome.ended,
            "direction": outcome.direction,
            "callerNumber": outcome.caller_number,
            "destinationNumber": outcome.destination_number,
            "hangupCause": outcome.hangup_cause,
            "callSessionState": outcome.call_session_state,
            "callStartTime": _time(outcome.call_start_time),
            "durationInSeconds": outcome.duration_seconds,
            "currencyCode": outcome.currency_code,
            "amount": outcome.amount,
        },
    }


def history_json(history: CallHistory) -> dict[str, Any]:
    """A call with every event in arrival order."""
    result = summary_json(history.summary)
    result["events"] = [
        {
            "id": event.id,
            "source": event.source,
            "kind": event.kind,
            "receivedAt": _time(event.received_at),
            "fields": event.fields,
        }
        for event in history.events
    ]
    return result


def _ascii_digits(text: str) -> bool:
    # str.isdigit alone also accepts '²' (which int() refuses) and '٣' (which it reads as 3).
    return text.isascii() and text.isdigit()


def _single(req: falcon.Request, name: str, max_length: int = 64) -> str | None:
    value = req.params.get(name)
    if isinstance(value, list):
        raise field_error(name, "must be given once")
    if value is not None and len(value) > max_length:
        raise field_error(name, f"must be at most {max_length} characters")
    return value


def _limit(req: falcon.Request) -> int:
    text = _single(req, "limit")
    if text is None:
        return DEFAULT_LIMIT
    if not _ascii_digits(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise field_error("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def _number(req: falcon.Request) -> str | None:
    """Either party's number, as stored: '+' restored when it was left out (or unencoded)."""
    number = (_single(req, "number") or "").strip()
    if not number:
        return None
    if _ascii_digits(number):
        number = "+" + number
    problem = value_problem("callerNumber", number)
    if problem is not None:
        raise field_error("number", problem)
    return number


STATUSES = tuple(value for value in query_values("/voice/calls", "status") if value)
"""The derived statuses a call can have, as the contract lists them."""


def _status(req: falcon.Request) -> str | None:
    status = _single(req, "status")
    if not status:
        return None
    if status not in STATUSES:
        # A filter nothing could match answered [] silently: "completed" found no call.
        raise field_error("status", f"must be one of {', '.join(STATUSES)} (exact case)")
    return status


class CallsResource:
    """Newest first; ``limit`` (1-500, default 50), ``cursor`` (from ``next``), ``number``
    (either party, with or without '+'), ``status`` (e.g. Success, NotAnswered)."""

    auth_required = True

    def __init__(self, store: EventStore, blocking: BlockingCalls) -> None:
        self._store = store
        self._blocking = blocking

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """A page of calls and the cursor of the next one."""
        unknown = sorted(set(req.params) - LIST_PARAMETERS)
        if unknown:
            raise field_error(unknown[0], f"is not a parameter (use {sorted(LIST_PARAMETERS)})")
        page = await self._blocking.run(
            self._store.list_calls,
            limit=_limit(req),
            cursor=_single(req, "cursor", max_length=512),
            number=_number(req),
            status=_status(req),
        )
        resp.media = {
            "calls": [summary_json(summary) for summary in page.calls],
            "next": page.next_cursor,
        }


class CallResource:
    """One call: every event in order, and the derived outcome."""

    auth_required = True

    def __init__(self, store: EventStore, blocking: BlockingCalls) -> None:
        self._store = store
        self._blocking = blocking

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, session_id: str
    ) -> None:
        """The call's history, or 404."""
        problem = value_problem("sessionId", session_id)
        if problem is not None:  # no webhook could have stored it
            raise field_error("sessionId", problem)
        history = await self._blocking.run(self._store.get_call, session_id)
        if history is None:
            raise ProblemError(
                falcon.HTTP_404, "Not Found", f"no call with sessionId {session_id!r} is stored"
            )
        resp.media = history_json(history)
