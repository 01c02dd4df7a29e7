"""The live feed: everything that happens to calls, in order, as it happens.

The journal answers "what happened to this call?" after the fact; the feed tells whoever
listens the moment something happens: a call is created or changes phase, a webhook was
exchanged, a line is added to a call's timeline, an API request named a call, the simulator
was reset. The dashboard's call board, ``atsim call``/``dial``/``calls --follow`` and
``atsim serve``'s log all read it (over HTTP as server-sent events, or in process).

Entries carry the platform's own immutable records (a :class:`~.calls.Call`, the journal's
bounded :class:`~.journal.WebhookExchange`, ...), so publishing costs an append: nothing is
serialised until someone reads it. The feed keeps only its latest entries (a listener that
falls further behind is told it missed some and reads the journal instead), so its memory is
bounded however long the simulator runs.

Thread-safe: entries are published from the calls' event loop and from any thread using the
backend (a test's), and listeners wait on any event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

DEFAULT_CAPACITY = 4096
"""How many of the latest entries the feed keeps for listeners that fall behind."""


class FeedEntryKind(StrEnum):
    """What an entry reports."""

    CALL = "call"
    """A call was created or changed (phase, bridge, cost, outcome): ``item`` is the Call."""
    WEBHOOK = "webhook"
    """A webhook was exchanged: ``item`` is the journal's WebhookExchange."""
    NOTE = "note"
    """A line of a call's readable timeline: ``item`` is a :class:`CallNote`."""
    REQUEST = "request"
    """An API request created or named a call: ``item`` is the journal's ApiExchange."""
    RESET = "reset"
    """The simulator was reset: every call is gone (``item`` is None)."""


@dataclass(frozen=True, slots=True)
class CallNote:
    """One line of a call's readable timeline, at ``at`` on the call's clock."""

    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One published entry: its place in the feed (from 1), what it reports, about which call."""

    sequence: int
    kind: FeedEntryKind
    session_id: str | None
    item: object


@dataclass(frozen=True, slots=True)
class FeedSlice:
    """The entries after a position, and whether some of them were dropped already
    (``missed``: the listener fell further behind than the feed keeps)."""

    entries: tuple[FeedEntry, ...]
    missed: bool
    position: int


class CallFeed:
    """The latest ``capacity`` entries, and the listeners waiting for the next one."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: deque[FeedEntry] = deque(maxlen=capacity)
        self._sequence = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._closed = False

    @property
    def position(self) -> int:
        """The sequence number of the latest entry (0 before the first)."""
        with self._lock:
            return self._sequence

    @property
    def closed(self) -> bool:
        """True while the server is shutting down: listeners should stop."""
        return self._closed

    def publish(self, kind: FeedEntryKind, session_id: str | None, item: object) -> FeedEntry:
        """Add an entry and wake every listener."""
        with self._lock:
            self._sequence += 1
            entry = FeedEntry(self._sequence, kind, session_id, item)
            self._entries.append(entry)
            waiters, self._waiters = self._waiters, []
        _wake(waiters)
        return entry

    def after(self, position: int) -> FeedSlice:
        """Every kept entry after ``position``."""
        with self._lock:
            oldest = self._entries[0].sequence if self._entries else self._sequence + 1
            # Sequences are consecutive: the newest ``wanted`` entries, read from the end, so
            # a listener keeping up costs what it reads, not what the feed keeps.
            wanted = min(max(self._sequence - position, 0), len(self._entries))
            newest_first = itertools.islice(reversed(self._entries), wanted)
            entries = tuple(reversed(tuple(newest_first)))
            return FeedSlice(entries, missed=position + 1 < oldest, position=self._sequence)

    async def wait(self, position: int, timeout: float) -> None:
        """Return once there is an entry after ``position``, after ``timeout`` seconds, or
        when the feed closes, whichever comes first."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._sequence > position or self._closed:
                return
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            with self._lock:
                self._waiters = [(lp, f) for lp, f in self._waiters if f is not future]

    def close(self) -> None:
        """The server is stopping: wake every listener for good (they end their streams)."""
        with self._lock:
            self._closed = True
            waiters, self._waiters = self._waiters, []
        _wake(waiters)

    def reopen(self) -> None:
        """Serve listeners again (a server started anew on the same backend)."""
        with self._lock:
            self._closed = False


def _wake(waiters: Iterable[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]) -> None:
    for loop, future in waiters:
        if not loop.is_closed():
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
