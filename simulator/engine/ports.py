"""The engine's ports: everything it needs from outside, as small typed interfaces.

The engine never does I/O itself (STYLE principle 2). It hands every webhook to a
:class:`WebhookDelivery`, records what happened in a :class:`JournalSink`, keeps queues in a
:class:`QueueRegistry`, asks a :class:`CalleeDirectory` for forced callee behaviour, and reads
ActionXML with an injected parse function. The server plugs its backend in; the tests plug in
:mod:`at_voice_kit.simulator.engine.memory`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlencode

from at_voice_kit.contracts.actionxml.model import Response
from at_voice_kit.contracts.actionxml.problems import Problem
from at_voice_kit.simulator.engine.callee import CalleeScript


class WebhookKind(StrEnum):
    """Which URL of the app a request goes to."""

    CALLBACK = "callback"
    """The number's callback URL (or a GetDigits/Record callbackUrl, or a Redirect)."""
    EVENT = "event"
    """The number's events URL."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One form-encoded POST the engine wants sent; ``fields`` keep their order."""

    url: str
    fields: tuple[tuple[str, str], ...]
    kind: WebhookKind = WebhookKind.CALLBACK

    def form(self) -> dict[str, str]:
        """The fields as a dict (order kept)."""
        return dict(self.fields)

    def body(self) -> bytes:
        """The ``application/x-www-form-urlencoded`` body, fields in order."""
        return urlencode(self.fields).encode("ascii")


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What came back: a status and body, or an error (connection failed, timed out)."""

    status: int | None
    body: str = ""
    elapsed: float = 0.0
    error: str | None = None
    timed_out: bool = False
    too_large: bool = False
    """The answer went over the platform's size limit; ``body`` holds only its start."""
    body_size: int | None = None
    """The length in characters of the body as read, when ``body`` may hold only its start
    (an answer over the size limit; the journal's bounded copy); ``None``: ``body`` is whole."""

    @property
    def body_truncated(self) -> bool:
        """True when ``body`` is only the start of what the app answered."""
        whole = self.body_size if self.body_size is not None else len(self.body)
        return self.too_large or whole > len(self.body)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def failure(self) -> str | None:
        """Why this answer cannot drive a call, in words for the journal; None when ok."""
        if self.timed_out:
            return f"the app did not answer in time ({self.error or 'timeout'})"
        if self.too_large:
            return f"the app's answer is too large ({self.error or 'over the limit'})"
        if self.error is not None and self.status is not None:
            return f"the app's answer could not be read (HTTP {self.status}: {self.error})"
        if self.error is not None:
            return f"the app could not be reached ({self.error})"
        if not self.ok:
            return f"the app answered HTTP {self.status}"
        return None


@dataclass(frozen=True, slots=True)
class WebhookExchange:
    """A journal entry: one request, its result, when it was sent, and what it meant.

    ``sent_at`` is clock time (virtual under ``--speed fast``). ``note`` explains what the
    engine made of the answer when it ended the call ("ActionXML invalid: ...").
    """

    request: WebhookRequest
    result: WebhookResult
    sent_at: datetime
    note: str | None = None


class WebhookDelivery(Protocol):
    """Sends one webhook and reports the outcome; must never raise for network faults."""

    async def deliver(self, request: WebhookRequest) -> WebhookResult:
        """POST ``request`` and return what happened."""
        ...


class JournalSink(Protocol):
    """Where every webhook exchange is recorded (the simulator's request journal)."""

    def record_webhook(self, session_id: str, exchange: WebhookExchange) -> None:
        """Record one exchange of call ``session_id``."""
        ...


class QueueRegistry(Protocol):
    """Call queues per AT number, shared with ``/queueStatus``.

    ``queue_name`` is the ``name`` attribute of Enqueue/Dequeue, ``""`` when absent.
    """

    def enqueue(self, at_number: str, queue_name: str, session_id: str) -> None:
        """Put a call at the back of a queue."""
        ...

    def dequeue(self, at_number: str, queue_name: str) -> str | None:
        """Take the call at the front of a queue, or None if it is empty."""
        ...

    def remove(self, at_number: str, queue_name: str, session_id: str) -> bool:
        """Take a call out of a queue (its caller hung up); False if it was not there."""
        ...

    def sizes(self, at_number: str) -> Mapping[str, int]:
        """Calls waiting per queue name on one AT number."""
        ...


class CalleeDirectory(Protocol):
    """The forced behaviour of phone users (``PUT /_simulator/callees/{number}``)."""

    def script_for(self, number: str) -> CalleeScript | None:
        """The script of ``number``, or None to draw its behaviour from the distribution."""
        ...


class ParsedActionXml(Protocol):
    """What an ActionXML parse function returns
    (``at_voice_kit.contracts.actionxml.ParseResult``)."""

    @property
    def response(self) -> Response | None:
        """The document, or None when it breaks any rule."""
        ...

    @property
    def executable(self) -> Response | None:
        """What AT would most plausibly carry out of it; None when nothing of it is usable
        (not XML, no ``Response`` root)."""
        ...

    @property
    def problems(self) -> Sequence[Problem]:
        """What is wrong with it, each with its severity."""
        ...

    @property
    def ok(self) -> bool:
        """True when the document breaks no rule at all."""
        ...


ActionXmlParser = Callable[[str], ParsedActionXml]
