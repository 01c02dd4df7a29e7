"""The journal: every API request the simulator received and every webhook it sent.

House principle 9 (moto's ``sent_notifications``, WireMock's request journal): tests assert
on what was exchanged. The REST surface records API requests with
:meth:`Journal.record_api_request`; the call engine records each webhook it delivers with
:meth:`Journal.record_webhook` (the journal is the engine's journal port), as the engine's own
:class:`~at_voice_kit.simulator.engine.ports.WebhookExchange`: the request (URL, kind, form fields
in order), the app's answer (status, body, elapsed time, error) and what the engine made of it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from at_voice_kit.simulator.engine.ports import WebhookExchange

__all__ = ["ApiExchange", "Journal", "WebhookExchange"]

DEFAULT_MAX_API_REQUESTS = 100_000
"""Oldest API requests are dropped beyond this, so a long ``atsim serve`` run stays bounded."""


@dataclass(frozen=True, slots=True)
class ApiExchange:
    """One API request received on the REST surface and the answer given.

    ``headers`` never carry the API key (it is replaced by ``<redacted>``). ``form`` holds the
    fields as parsed (empty if the body could not be parsed). ``session_ids`` are the calls
    the request created or named. ``sequence`` is assigned by the journal, from 1.
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


@dataclass(slots=True)
class _SessionRecord:
    api_requests: list[ApiExchange] = field(default_factory=list)
    webhooks: list[WebhookExchange] = field(default_factory=list)


class Journal:
    """API requests in arrival order, and per call session its requests and webhooks."""

    def __init__(self, lock: threading.RLock, max_api_requests: int = DEFAULT_MAX_API_REQUESTS):
        self._lock = lock
        self._api_requests: deque[ApiExchange] = deque(maxlen=max_api_requests)
        self._sessions: dict[str, _SessionRecord] = {}
        self._sequence = 0

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._api_requests.clear()
            self._sessions.clear()
            self._sequence = 0

    def record_api_request(self, exchange: ApiExchange) -> ApiExchange:
        """Journal an API request; returns it with its ``sequence`` number."""
        with self._lock:
            self._sequence += 1
            recorded = replace(exchange, sequence=self._sequence)
            self._api_requests.append(recorded)
            for session_id in recorded.session_ids:
                self._sessions.setdefault(session_id, _SessionRecord()).api_requests.append(
                    recorded
                )
            return recorded

    def record_webhook(self, session_id: str, exchange: WebhookExchange) -> None:
        """Journal a webhook sent for the call ``session_id``."""
        with self._lock:
            self._sessions.setdefault(session_id, _SessionRecord()).webhooks.append(exchange)

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
        """The webhooks sent for the call, oldest first."""
        with self._lock:
            record = self._sessions.get(session_id)
            return tuple(record.webhooks) if record else ()
