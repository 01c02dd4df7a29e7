"""In-memory implementations of the engine's ports, for tests, demos and embedding.

:class:`InProcessApps` delivers webhooks to Python functions instead of HTTP servers: a
fake app is a function from the posted form to an :class:`AppAnswer` (status and body), so
tests can drive whole calls without sockets. Unknown URLs behave like a refused connection.
"""

from __future__ import annotations

import inspect
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from at_voice_kit.simulator.engine.callee import CalleeScript
from at_voice_kit.simulator.engine.ports import (
    WebhookExchange,
    WebhookKind,
    WebhookRequest,
    WebhookResult,
)


class InMemoryJournal:
    """Keeps every webhook exchange, in order."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, WebhookExchange]] = []

    def record_webhook(self, session_id: str, exchange: WebhookExchange) -> None:
        """Append one exchange."""
        self.entries.append((session_id, exchange))

    def for_session(
        self, session_id: str, kind: WebhookKind | None = None
    ) -> list[WebhookExchange]:
        """The exchanges of one call, optionally only callbacks or only events."""
        return [
            e for s, e in self.entries
            if s == session_id and (kind is None or e.request.kind is kind)
        ]  # fmt: skip


class InMemoryQueues:
    """FIFO call queues per ``(AT number, queue name)``."""

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], deque[str]] = defaultdict(deque)

    def enqueue(self, at_number: str, queue_name: str, session_id: str) -> None:
        """Add a call at the back."""
        self._queues[(at_number, queue_name)].append(session_id)

    def dequeue(self, at_number: str, queue_name: str) -> str | None:
        """Take the call at the front, if any."""
        queue = self._queues.get((at_number, queue_name))
        return queue.popleft() if queue else None

    def remove(self, at_number: str, queue_name: str, session_id: str) -> bool:
        """Take a call out wherever it is."""
        queue = self._queues.get((at_number, queue_name))
        if queue is None or session_id not in queue:
            return False
        queue.remove(session_id)
        return True

    def sizes(self, at_number: str) -> Mapping[str, int]:
        """Waiting calls per queue name (non-empty queues only)."""
        return {
            name: len(q) for (number, name), q in self._queues.items() if number == at_number and q
        }


class InMemoryCallees:
    """Callee scripts per phone number."""

    def __init__(self, scripts: Mapping[str, CalleeScript] | None = None) -> None:
        self.scripts: dict[str, CalleeScript] = dict(scripts or {})

    def script_for(self, number: str) -> CalleeScript | None:
        """The script set for ``number``, if any."""
        return self.scripts.get(number)


@dataclass(frozen=True, slots=True)
class AppAnswer:
    """What a fake app answers: an HTTP status and a body (ActionXML, or anything)."""

    status: int = 200
    body: str = ""


class AppUnreachable(Exception):
    """Raise from a fake app to simulate a connection failure (``timed_out`` for a timeout)."""

    def __init__(self, message: str = "connection refused", *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


FakeApp = Callable[[Mapping[str, str]], "AppAnswer | str | Awaitable[AppAnswer | str]"]


class InProcessApps:
    """A delivery port that calls in-process fake apps by URL (a ``str`` answer means 200)."""

    def __init__(self, apps: Mapping[str, FakeApp] | None = None) -> None:
        self.apps: dict[str, FakeApp] = dict(apps or {})
        self.delivered: list[WebhookRequest] = []

    async def deliver(self, request: WebhookRequest) -> WebhookResult:
        """Call the app registered for the URL and turn its answer into a result."""
        self.delivered.append(request)
        app = self.apps.get(request.url)
        if app is None:
            return WebhookResult(None, error=f"connection refused: no app at {request.url}")
        try:
            answer = app(request.form())
            if inspect.isawaitable(answer):
                answer = await answer
        except AppUnreachable as exc:
            return WebhookResult(None, error=str(exc), timed_out=exc.timed_out)
        if isinstance(answer, str):
            answer = AppAnswer(200, answer)
        return WebhookResult(answer.status, answer.body)
