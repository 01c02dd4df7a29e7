"""Group commit for an event loop: requests await their batch's commit; one writer per process.

A durable commit costs a disk flush, the same for one event or a hundred. So each process
has one writer thread that takes everything waiting, writes it in one transaction and
answers each request with its own result once the commit has returned. The requests are
coroutines on the process's event loop: while one batch is being written (the driver lets
go of Python's lock while it waits for the disk or the server), the loop goes on reading
and validating the next requests, which queue for the next batch. A request costs the loop
no thread hand-off of its own; a batch costs one each way.

The writer takes its batch only once it has passed the ``gate`` (on SQLite, the lock that
lets one process write at a time), so what arrives while another process commits rides along.

Overload is answered in time. Each request waits at most ``max_wait`` seconds for a writer
to take it; one still queued then is answered :class:`Overloaded` (a 503 with
``Retry-After``) and is never written. A request the writer has taken waits for the commit:
its answer must say whether it was stored. Nothing is acknowledged before the commit that
stored it has returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy.exc

from at_voice_kit.service.store.failures import StoreUnavailable

log = logging.getLogger("at_voice_kit.service.store")

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

DEFAULT_MAX_BATCH = 128
"""At most this many items per transaction, to bound its size and lock time."""

DEFAULT_MAX_WAIT_SECONDS = 1.0
"""How long a request may wait for the writer before it is answered 503 (``VOICE_MAX_WAIT``)."""

WHOLE_BATCH_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.InternalError,
    sqlalchemy.exc.TimeoutError,
    StoreUnavailable,
)
"""Failures of the database itself (unreachable, timed out, read-only, its file gone): every
item of the batch gets them. Any other failure may be one bad item's fault, so the batch is
retried item by item and only that item fails."""


class Overloaded(Exception):
    """The request waited ``max_wait`` seconds and no writer took it: nothing was stored."""


class _Entry(Generic[ItemT, ResultT]):
    """One queued item, the future its request awaits, and whether the writer took it."""

    __slots__ = ("future", "item", "taken", "timer")

    def __init__(self, item: ItemT, future: asyncio.Future[ResultT]) -> None:
        self.item = item
        self.future = future
        self.taken = False
        self.timer: asyncio.TimerHandle | None = None


Outcome = tuple[ResultT | None, BaseException | None]


class CommitQueue(Generic[ItemT, ResultT]):
    """Funnel the items of concurrent requests into batched calls of ``write_batch``.

    ``write_batch(items)`` writes all items in one transaction and returns one result per
    item once committed; if it raises, nothing of the batch was committed. ``after_batch()``
    runs on the writer after each batch, outside the gate, once the batch's requests are
    answered; an error it raises is logged.
    """

    def __init__(
        self,
        write_batch: Callable[[Sequence[ItemT]], list[ResultT]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_wait: float = DEFAULT_MAX_WAIT_SECONDS,
        gate: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
        after_batch: Callable[[], None] = lambda: None,
    ) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._gate = gate
        self._after_batch = after_batch
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._queue: deque[_Entry[ItemT, ResultT]] = deque()
        self._writer_pid = 0
        reference = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_parent(reference))

    @property
    def waiting(self) -> int:
        """Items queued and not yet taken by the writer (expired ones included)."""
        return len(self._queue)

    async def submit(self, item: ItemT) -> ResultT:
        """Queue ``item``; return its result once the batch holding it has committed.

        Raises :class:`Overloaded` when no writer took it within ``max_wait`` seconds (it
        is then never written), or the error that failed its batch.
        """
        loop = asyncio.get_running_loop()
        entry: _Entry[ItemT, ResultT] = _Entry(item, loop.create_future())
        with self._lock:
            if self._writer_pid != os.getpid():
                self._start_writer()
            self._queue.append(entry)
            self._work.notify()
        entry.timer = loop.call_later(self._max_wait, self._expire, entry)
        try:
            return await entry.future
        except asyncio.CancelledError:
            with self._lock:
                entry.taken = True  # not written if the writer has not taken it yet
            raise

    def _expire(self, entry: _Entry[ItemT, ResultT]) -> None:
        """On the loop, ``max_wait`` after submission: fail the entry if no writer took it."""
        with self._lock:
            if entry.taken or entry.future.done():
                return
            entry.taken = True  # the writer skips it from now on
        entry.future.set_exception(Overloaded(f"no writer took the event in {self._max_wait} s"))

    def _start_writer(self) -> None:
        """Start this process's writer thread (called holding the lock): on first use, and
        in a forked child, which inherits the queue's memory but not the parent's thread."""
        self._writer_pid = os.getpid()
        threading.Thread(target=self._run_writer, name="event-writer", daemon=True).start()

    def _run_writer(self) -> None:
        pid = os.getpid()
        while self._writer_pid == pid:
            with self._lock:
                while not self._queue:
                    self._work.wait()
            batch, outcomes = self._gated_batch()
            if not batch:
                continue
            _answer(batch, outcomes)
            try:
                self._after_batch()
            except Exception:
                log.exception("housekeeping after a group commit failed")

    def _gated_batch(self) -> tuple[list[_Entry[ItemT, ResultT]], list[Outcome[ResultT]]]:
        """Pass the gate, take a batch and write it; every entry taken gets an outcome."""
        batch: list[_Entry[ItemT, ResultT]] = []
        try:
            with self._gate():
                batch = self._take()
                return batch, self._write(batch) if batch else []
        except BaseException as exc:  # the gate failed (its lock file cannot be opened)
            batch = batch or self._take()
            return batch, [(None, exc)] * len(batch)

    def _take(self) -> list[_Entry[ItemT, ResultT]]:
        """Up to ``max_batch`` entries no request gave up on, oldest first, marked taken."""
        batch: list[_Entry[ItemT, ResultT]] = []
        with self._lock:
            while self._queue and len(batch) < self._max_batch:
                entry = self._queue.popleft()
                if not entry.taken:
                    entry.taken = True
                    batch.append(entry)
        return batch

    def _write(self, batch: list[_Entry[ItemT, ResultT]]) -> list[Outcome[ResultT]]:
        try:
            results = self._write_batch([entry.item for entry in batch])
        except WHOLE_BATCH_ERRORS as exc:
            return [(None, exc)] * len(batch)
        except Exception as exc:
            if len(batch) == 1:
                return [(None, exc)]
            return [self._write_one(entry.item) for entry in batch]
        return [(result, None) for result in results]

    def _write_one(self, item: ItemT) -> Outcome[ResultT]:
        try:
            return self._write_batch([item])[0], None
        except Exception as exc:
            return None, exc


def _forget_parent(reference: weakref.ref[CommitQueue[Any, Any]]) -> None:
    """In a forked child: a lock of its own (the parent's writer may have held the copy at the
    fork) and none of the parent's waiting requests; its writer starts on first use."""
    queue = reference()
    if queue is not None:
        queue._lock = threading.Lock()
        queue._work = threading.Condition(queue._lock)
        queue._queue = deque()


def _answer(batch: Sequence[_Entry[ItemT, ResultT]], outcomes: Sequence[Outcome[ResultT]]) -> None:
    """Hand each entry its outcome on its own loop: one call per loop, not per entry."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Entry[ItemT, ResultT], Outcome[ResultT]]]]
    by_loop = {}
    for entry, outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(entry.future.get_loop(), []).append((entry, outcome))
    for loop, answers in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody awaits
            loop.call_soon_threadsafe(_resolve, answers)


def _resolve(answers: list[tuple[_Entry[ItemT, ResultT], Outcome[ResultT]]]) -> None:
    for entry, (result, error) in answers:
        if entry.timer is not None:
            entry.timer.cancel()
        if entry.future.done():  # its request was cancelled (the client went away)
            continue
        if error is not None:
            entry.future.set_exception(error)
        else:
            entry.future.set_result(result)  # type: ignore[arg-type]
