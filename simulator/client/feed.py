"""Reading a running simulator's live streams (the feed of calls, a dev phone's line): the
server-sent events format, and the feed's events turned into timeline lines as they come.

What the streams carry is described in
:mod:`at_voice_kit.simulator.serving.dashboard.streams`; the documents are the dashboard's
(URLs' secrets already masked by the server, and masked again here before printing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from at_voice_kit.simulator.client.timeline import HIDDEN_NOTES, redact, webhook_text

KEEPALIVE = "keepalive"
"""The name given to a comment line (the server's keep-alive), so readers can check a clock."""


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One server-sent event: its name, its JSON document and its id (the feed position)."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None


def read_events(lines: Iterable[str]) -> Iterator[StreamEvent]:
    """The events in a stream's lines (``event:``, ``id:``, ``data:`` fields; a blank line
    ends an event; a comment is a :data:`KEEPALIVE` event)."""
    name, event_id, data = "message", None, list[str]()
    for line in lines:
        if not line:
            if data:
                yield StreamEvent(name, json.loads("\n".join(data)), event_id)
            name, event_id, data = "message", None, []
        elif line.startswith(":"):
            yield StreamEvent(KEEPALIVE)
        else:
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "id" and value.isdigit():
                event_id = int(value)
            elif key == "data":
                data.append(value)


@dataclass(slots=True)
class _CallSeen:
    start: datetime | None = None
    phase: str = "queued"


class LiveTimeline:
    """Turns the feed's events into timeline lines as they arrive, for the calls ``label``
    names (``label(session_id)``: a prefix such as ``"[3] "``, or ``None`` to skip the call).

    Lines read like :func:`~at_voice_kit.simulator.client.timeline.render_call`'s: seconds
    from the call's start, then what happened, each URL's secrets masked.
    """

    def __init__(
        self, write: Callable[[str], None], label: Callable[[str], str | None] = lambda _: ""
    ) -> None:
        self._write = write
        self._label = label
        self._calls: dict[str, _CallSeen] = {}

    def ended(self, session_id: str) -> bool:
        """Whether the feed said the call has ended (final request and events sent)."""
        seen = self._calls.get(session_id)
        return seen is not None and seen.phase == "ended"

    def handle(self, event: StreamEvent) -> None:
        """Print what ``event`` adds to a call's timeline, if anything."""
        if event.name == "call":
            call = event.data["call"]
            seen = self._calls.setdefault(call["sessionId"], _CallSeen())
            seen.phase = call["phase"]
            if seen.start is None and call.get("clockStart"):
                seen.start = datetime.fromisoformat(call["clockStart"])
            return
        session_id = event.data.get("sessionId")
        if not isinstance(session_id, str):
            return
        label = self._label(session_id)
        text, at = _line(event)
        if label is None or text is None or at is None:
            return
        start = self._calls.setdefault(session_id, _CallSeen()).start or at
        seconds = (at - start).total_seconds()
        self._write(f"{label}  {seconds:>8.1f}s {redact(text)}")


def _line(event: StreamEvent) -> tuple[str | None, datetime | None]:
    if event.name == "webhook":
        webhook = event.data["webhook"]
        return webhook_text(webhook), datetime.fromisoformat(webhook["startedAt"])
    if event.name == "note":
        note = event.data["note"]
        if note["text"] in HIDDEN_NOTES:
            return None, None
        return f"  {note['text']}", datetime.fromisoformat(note["at"])
    return None, None
