"""The journal: every API request the simulator received and every webhook it sent.

House principle 9 (moto's ``sent_notifications``, WireMock's request journal): tests assert
on what was exchanged. The REST surface records API requests with
:meth:`Journal.record_api_request`; the call engine records each webhook it delivers with
:meth:`Journal.record_webhook` (the journal is the engine's journal port), as the engine's own
:class:`~at_voice_kit.simulator.engine.ports.WebhookExchange`: the request (URL, kind, form fields
in order), the app's answer (status, body, elapsed time, error) and what the engine made of it.

What others sent is kept as a bounded preview (:mod:`at_voice_kit.simulator.engine.previews`): the
first 4096 characters of each body, form and set of headers, with the body's whole size and a flag
saying it was cut; a call keeps its first and latest webhooks. Memory then stays bounded whatever
apps answer and clients send (a gzip bomb unpacking to a megabyte per answer took 1.2 GB over 200
calls when kept whole).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from at_voice_kit.simulator.backend.feed import CallFeed, CallNote, FeedEntryKind
from at_voice_kit.simulator.engine.ports import WebhookExchange
from at_voice_kit.simulator.engine.previews import (
    PREVIEW_CHARS,
    HeadAndTail,
    bounded_fields,
    clipped,
    preview,
)

__all__ = ["ApiExchange", "Journal", "WebhookExchange"]

DEFAULT_MAX_API_REQUESTS = 100_000
"""Oldest API requests are dropped beyond this, so a long ``atsim serve`` run stays bounded."""
DEFAULT_MAX_API_CHARACTERS = 64_000_000
"""... or once the kept API requests hold more characters than this (each is bounded, but
100 000 of the largest would still be gigabytes)."""
WEBHOOKS_KEPT_PER_CALL = (100, 100)
"""A call's first and latest webhooks kept (a Redirect loop may never hang up)."""
NOTES_KEPT_PER_CALL = (200, 100)
"""A call's first and latest timeline lines kept (as the engine keeps them in its record)."""
REQUESTS_KEPT_PER_CALL = (50, 50)
"""A call's first and latest API requests kept (``/callTransfer`` may name it any number of
times)."""


@dataclass(frozen=True, slots=True)
class ApiExchange:
    """One API request received on the REST surface and the answer given.

    ``headers`` never carry the API key (it is replaced by ``<redacted>``). ``form`` holds the
    fields as parsed (empty if the body could not be parsed). ``session_ids`` are the calls
    the request created or named. ``sequence`` is assigned by the journal, from 1.

    As journaled, ``path``, ``headers``, ``form`` and ``body`` (the answer) are bounded
    previews: ``headers_truncated``/``form_truncated`` say fields were cut or left out, and
    ``body_size`` is the whole answer's length in characters.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    form: Mapping[str, str]
    status: int
    content_type: str
    body: str
    started_at: datetime
    elapsed: float
    username: str | None = None
    session_ids: tuple[str, ...] = ()
    sequence: int = 0
    body_size: int | None = None
    form_truncated: bool = False
    headers_truncated: bool = False

    @property
    def body_truncated(self) -> bool:
        """True when ``body`` is only the start of the answer given."""
        return self.body_size is not None and self.body_size > len(self.body)


def kept_api_request(exchange: ApiExchange) -> ApiExchange:
    """What the journal keeps of an API request: bounded previews of what the client sent
    and of the answer (the exchange itself when it is within bounds)."""
    headers, headers_cut = bounded_fields(exchange.headers.items())
    form, form_cut = bounded_fields(exchange.form.items())
    if not (headers_cut or form_cut or _over(exchange.path) or _over(exchange.body)):
        return exchange
    body = preview(exchange.body)
    return replace(
        exchange,
        path=clipped(exchange.path, PREVIEW_CHARS),
        headers=dict(headers),
        form=dict(form),
        body=body.text,
        body_size=body.size if exchange.body_size is None else exchange.body_size,
        form_truncated=exchange.form_truncated or form_cut,
        headers_truncated=exchange.headers_truncated or headers_cut,
    )


def kept_webhook(exchange: WebhookExchange) -> WebhookExchange:
    """What the journal keeps of a webhook: the app's answer as a bounded preview with its
    size, and the URL (a Redirect's, the app's), fields, error and note bounded (the
    exchange itself when it is within bounds)."""
    request, result = exchange.request, exchange.result
    fields, fields_cut = bounded_fields(request.fields)
    texts = (request.url, result.body, result.error or "", exchange.note or "")
    if not fields_cut and not any(_over(text) for text in texts):
        return exchange
    body = preview(result.body)
    return replace(
        exchange,
        request=replace(request, url=clipped(request.url, PREVIEW_CHARS), fields=fields),
        result=replace(
            result,
            body=body.text,
            body_size=body.size if result.body_size is None else result.body_size,
            error=None if result.error is None else clipped(result.error, PREVIEW_CHARS),
        ),
        note=None if exchange.note is None else clipped(exchange.note, PREVIEW_CHARS),
    )


def _over(text: str) -> bool:
    return len(text) > PREVIEW_CHARS


def _characters(exchange: ApiExchange) -> int:
    pairs = (*exchange.headers.items(), *exchange.form.items())
    return len(exchange.path) + len(exchange.body) + sum(len(k) + len(v) for k, v in pairs)


@dataclass(slots=True)
class _SessionRecord:
    api_requests: HeadAndTail[ApiExchange] = field(
        default_factory=lambda: HeadAndTail(*REQUESTS_KEPT_PER_CALL)
    )
    webhooks: HeadAndTail[WebhookExchange] = field(
        default_factory=lambda: HeadAndTail(*WEBHOOKS_KEPT_PER_CALL)
    )
    notes: HeadAndTail[CallNote] = field(default_factory=lambda: HeadAndTail(*NOTES_KEPT_PER_CALL))


class Journal:
    """API requests in arrival order, and per call session its requests, webhooks and the
    lines of its timeline so far; each one is also published on ``feed`` as it is journaled."""

    def __init__(
        self,
        lock: threading.RLock,
        max_api_requests: int = DEFAULT_MAX_API_REQUESTS,
        max_api_characters: int = DEFAULT_MAX_API_CHARACTERS,
        feed: CallFeed | None = None,
    ):
        self._lock = lock
        self._feed = feed or CallFeed()
        self._max_api_requests = max_api_requests
        self._max_api_characters = max_api_characters
        self._api_requests: deque[ApiExchange] = deque()
        self._api_characters = 0
        self._sessions: dict[str, _SessionRecord] = {}
        self._sequence = 0

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._api_requests.clear()
            self._api_characters = 0
            self._sessions.clear()
            self._sequence = 0

    def record_api_request(self, exchange: ApiExchange) -> ApiExchange:
        """Journal an API request (as a bounded preview); returns it with its ``sequence``."""
        with self._lock:
            self._sequence += 1
            recorded = replace(kept_api_request(exchange), sequence=self._sequence)
            self._api_requests.append(recorded)
            self._api_characters += _characters(recorded)
            while len(self._api_requests) > 1 and (
                len(self._api_requests) > self._max_api_requests
                or self._api_characters > self._max_api_characters
            ):
                self._api_characters -= _characters(self._api_requests.popleft())
            for session_id in recorded.session_ids:
                self._session(session_id).api_requests.append(recorded)
        for session_id in recorded.session_ids:
            self._feed.publish(FeedEntryKind.REQUEST, session_id, recorded)
        return recorded

    def record_webhook(self, session_id: str, exchange: WebhookExchange) -> None:
        """Journal a webhook sent for the call ``session_id`` (as a bounded preview)."""
        kept = kept_webhook(exchange)
        with self._lock:
            self._session(session_id).webhooks.append(kept)
        self._feed.publish(FeedEntryKind.WEBHOOK, session_id, kept)

    def record_note(self, session_id: str, note: CallNote) -> None:
        """Journal a line of the call's readable timeline, as it happens."""
        with self._lock:
            self._session(session_id).notes.append(note)
        self._feed.publish(FeedEntryKind.NOTE, session_id, note)

    def forget_notes(self, session_id: str) -> None:
        """Drop a finished call's timeline lines: its record holds the same lines now, and a
        long-running simulator should not keep every call's timeline twice."""
        with self._lock:
            record = self._sessions.get(session_id)
            if record is not None:
                record.notes = HeadAndTail(*NOTES_KEPT_PER_CALL)

    def notes_for(self, session_id: str) -> tuple[CallNote, ...]:
        """The lines of the call's timeline so far (its first and latest ones, when it has
        more than the journal keeps per call)."""
        with self._lock:
            record = self._sessions.get(session_id)
            return tuple(record.notes) if record else ()

    def _session(self, session_id: str) -> _SessionRecord:
        record = self._sessions.get(session_id)
        if record is None:
            record = self._sessions[session_id] = _SessionRecord()
        return record

    def api_requests(self) -> tuple[ApiExchange, ...]:
        """Every journaled API request, oldest first."""
        with self._lock:
            return tuple(self._api_requests)

    def api_requests_for(self, session_id: str) -> tuple[ApiExchange, ...]:
        """The API requests that created or named the call."""
        with self._lock:
            record = self._sessions.get(session_id)
            return tuple(record.api_requests) if record else ()

    def webhooks_for(self, session_id: str) -> tuple[WebhookExchange, ...]:
        """The webhooks sent for the call, oldest first (its first and latest ones, when it
        sent more than the journal keeps per call)."""
        with self._lock:
            record = self._sessions.get(session_id)
            return tuple(record.webhooks) if record else ()

    def left_out_for(self, session_id: str) -> tuple[int, int]:
        """How many of the call's API requests and webhooks fell between the first and the
        latest ones kept."""
        with self._lock:
            record = self._sessions.get(session_id)
            if record is None:
                return 0, 0
            return record.api_requests.left_out, record.webhooks.left_out
