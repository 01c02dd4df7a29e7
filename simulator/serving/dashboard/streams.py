"""Server-sent event streams: the live feed of calls, and a dev phone's line.

Both are pushed, never polled: a stream sleeps until something happens (or sends a comment
every :data:`KEEPALIVE_SECONDS`, by which the server also notices a client that left). Both
end when the server stops (the feed and the phones are closed first, so a graceful shutdown
does not wait on them).

The feed stream starts with ``hello`` (``position``: the feed's latest entry; ``missed``:
entries after ``after`` were dropped already) and then sends every entry after ``after`` as
it is published, each with its sequence number as its ``id``: ``call``, ``webhook``,
``note``, ``request``, ``reset`` (see
:func:`~at_voice_kit.simulator.serving.dashboard.board_views.feed_event`). A listener that
falls behind by more than the feed keeps gets ``missed`` (then reads what it needs from the
journal) and goes on from the latest entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from falcon.asgi import SSEvent

from at_voice_kit.simulator.backend.feed import CallFeed, FeedEntry
from at_voice_kit.simulator.devphone.lines import PhoneLine, PhoneMessage
from at_voice_kit.simulator.serving.dashboard.board_views import feed_event

KEEPALIVE_SECONDS = 10.0


async def feed_stream(
    feed: CallFeed, after: int, session_id: str | None, *, follow: bool
) -> AsyncIterator[SSEvent | None]:
    """The feed from ``after`` on (only ``session_id``'s entries, if given); without
    ``follow`` it ends once it has sent what was there."""
    start = feed.after(after)
    missed = start.missed or after > start.position  # a position of an earlier server run
    position = min(after, start.position)
    yield SSEvent(event="hello", json={"position": start.position, "missed": missed})
    after = position
    while not feed.closed:
        found = feed.after(position)
        if found.missed and position != after:
            yield SSEvent(event="missed", json={"position": found.position})
        for entry in found.entries:
            if session_id is None or entry.session_id in (session_id, None):
                yield _entry_event(entry)
        position = found.position
        if not follow:
            return
        await feed.wait(position, KEEPALIVE_SECONDS)
        if feed.position == position:
            yield None  # a keep-alive comment: the server learns if the client left


def _entry_event(entry: FeedEntry) -> SSEvent:
    name, document = feed_event(entry)
    return SSEvent(event=name, json=document, event_id=str(entry.sequence))


async def phone_stream(line: PhoneLine) -> AsyncIterator[SSEvent | None]:
    """What the line shows, as it happens, for as long as the client listens; while it
    does, the person holds the number."""
    listener = line.listen()
    try:
        while True:
            try:
                message = await asyncio.wait_for(listener.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield None
                continue
            if message is None:
                return
            yield _phone_event(message)
    finally:
        line.stop_listening(listener)


def _phone_event(message: PhoneMessage) -> SSEvent:
    return SSEvent(event=str(message["type"]), json=message)
