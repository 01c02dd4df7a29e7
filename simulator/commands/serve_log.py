"""``atsim serve``'s log: one readable line per call start and end and per webhook exchange,
read from the live feed in the server's own process, instead of a line per HTTP request.

::

    14:02:11 call  ATVId_5c1a...  Outbound +254711082000 -> +254711082001  (queued)  started
    14:02:20 hook  ATVId_5c1a...  callback isActive=1  -> 200 GetDigits(numDigits=1) (12 ms)
             http://127.0.0.1:8000/voice?secret=***  (on the same line)
    14:02:31 call  ATVId_5c1a...  Outbound ...  Completed/Success NORMAL_CLEARING  (9 s, KES 0.375)

URLs' query values and passwords are masked, and what apps answered is made printable. When
calls come faster than the log is written (``--speed fast`` with thousands of calls), lines
are skipped and the log says how many. No ``register``: not a command itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from at_voice_kit.simulator.backend.calls import Call, CallPhase
from at_voice_kit.simulator.backend.feed import CallFeed, FeedEntry, FeedEntryKind
from at_voice_kit.simulator.backend.journal import WebhookExchange
from at_voice_kit.simulator.client.timeline import call_headline, redact, webhook_text
from at_voice_kit.simulator.serving.dashboard.board_views import board_call

IDLE_WAIT_SECONDS = 30.0


async def log_calls(feed: CallFeed, write: Callable[[str], None]) -> None:
    """Write the log lines of everything the feed publishes from now on, until it closes."""
    position = feed.position
    while not feed.closed:
        await feed.wait(position, IDLE_WAIT_SECONDS)
        found = feed.after(position)
        if found.missed:
            write(f"{_now()} ...   (some calls' lines were not logged: the log fell behind)")
        for entry in found.entries:
            line = log_line(entry)
            if line is not None:
                write(f"{_now()} {line}")
        position = found.position


def log_line(entry: FeedEntry) -> str | None:
    """The log line of one feed entry, if it is one the log shows."""
    item = entry.item
    if entry.kind is FeedEntryKind.CALL and isinstance(item, Call):
        return _call_line(item)
    if entry.kind is FeedEntryKind.WEBHOOK and isinstance(item, WebhookExchange):
        request, result = item.request, item.result
        webhook = {
            "kind": request.kind.value,
            "form": request.form(),
            "status": result.status,
            "error": result.error,
            "body": result.body,
            "note": item.note,
        }
        latency = f"({round(result.elapsed * 1000)} ms)"
        # One pass of redact over the whole line masks the URL and anything the app put in
        # its answer (cheaper than masking each field: a fast run logs thousands a second).
        return redact(f"hook  {entry.session_id}  {webhook_text(webhook)} {latency} {request.url}")
    if entry.kind is FeedEntryKind.RESET:
        return "reset: every call is gone"
    return None


def _call_line(call: Call) -> str | None:
    """A call as it is created (queued, its clock not started yet), and once it is settled
    (its record and cost known: the last change a call sees). A Dial's leg, created already
    bridged, shows in its caller's lines instead."""
    if call.phase is CallPhase.QUEUED and call.clock_start is None:
        return redact(f"call  {call_headline(board_call(call))}  started")
    if call.record is not None and call.cost is not None:
        return redact(f"call  {call_headline(board_call(call))}")
    return None


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")
