"""Variants of the service that show where its time goes (``bench_service --diagnose``).

Each runs in its own gunicorn, under the same settings and load as the service and the
baseline; none is ever run in production. The first three are rungs of a ladder from the
baseline to the service, each adding one thing, so that the throughput lost at each rung is
what that thing costs:

- :func:`service_without_store`: the service, with its event store replaced by one that keeps
  nothing. Against the baseline: what form validation, the middleware and the resources
  cost (HTTP and Falcon are the baseline's too).
- :func:`service_with_durable_floor`: the service, storing each event as one line appended to
  a file of its own process, flushed to disk (``fdatasync``) once per group commit before
  the requests are answered: the cheapest durable write there is, with no database. Against
  the previous rung: what making an answer wait for the disk costs (the group commit's
  waiting and waking, the flush), which any durable store pays.
- :func:`service_without_outcomes`: the service writing each event to its database as it
  does, but not deriving the call's outcome (no ``calls`` row). Against the previous rung:
  what a database commit costs beyond a bare flush; against the service: what keeping each
  call's outcome current costs.
- :func:`service_writing_on_the_loop`: the service with its batches written on the event loop
  itself instead of on the process's writer thread: the loop stops while a batch commits.
  Against the service: what the thread hand-off gains or costs.
- :func:`service_with_write_timing`: the service itself, reporting how long each process waits
  for the SQLite writer lock and holds it per batch, and how many events a batch carries, in
  ``write-timing`` lines on standard error (the gunicorn log), every two seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import falcon.asgi

from at_voice_kit.service.app import create_app
from at_voice_kit.service.store import AppendResult, CallEvent, EventStore
from at_voice_kit.service.store.batch_write import PreparedBatch, PreparedEvent
from at_voice_kit.service.store.commit_queue import CommitQueue
from at_voice_kit.service.store.database import PerProcess
from at_voice_kit.service.store.sqlite import WriterLock

DIAGNOSTIC_DIRECTORY_ENV = "AVK_DIAGNOSTIC_DIR"
"""Where :func:`service_with_durable_floor` keeps its files (the benchmark's working directory,
beside the service's database, so that both flush to the same disk); the temporary directory
when unset."""

TIMING_PREFIX = "write-timing"
TIMING_INTERVAL_SECONDS = 2.0
TIMING_LINE = re.compile(
    rf"^{TIMING_PREFIX} pid=(?P<pid>\d+) batches=(?P<batches>\d+) "
    r"events_per_batch=(?P<events_per_batch>[\d.]+) lock_wait_ms=(?P<lock_wait_ms>[\d.]+) "
    r"lock_held_ms=(?P<lock_held_ms>[\d.]+)$"
)
"""A whole line written by :meth:`WriteTiming.line` (workers share one log, so a line may be
cut into by another's: only whole lines match)."""


def service_without_store() -> falcon.asgi.App:
    """The service with an event store that stores nothing and answers every event as new."""

    async def discard(self: EventStore, event: CallEvent) -> AppendResult:
        return AppendResult(stored=True)

    EventStore.append_async = discard  # type: ignore[method-assign]
    return create_app()


class DurableFloor:
    """Each event as one line of JSON appended to a file of this process's own, and every
    group commit flushed with ``fdatasync`` before its requests are answered.

    The same :class:`CommitQueue` as the event store's, with no gate: the processes share no
    file, so none waits for another.
    """

    def __init__(self, directory: Path) -> None:
        self._file = PerProcess(
            lambda: os.open(
                directory / f"durable-floor-{os.getpid()}.log",
                os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                0o600,
            )
        )
        self._queue: CommitQueue[bytes, AppendResult] = CommitQueue(self._write)

    async def append(self, event: CallEvent) -> AppendResult:
        """Append ``event`` durably: returns once the line is on disk."""
        line = json.dumps([event.session_id, event.kind, dict(event.fields)]).encode() + b"\n"
        return await self._queue.submit(line)

    def _write(self, lines: Sequence[bytes]) -> list[AppendResult]:
        descriptor = self._file.get()
        os.write(descriptor, b"".join(lines))
        os.fdatasync(descriptor)
        return [AppendResult(stored=True)] * len(lines)


def service_with_durable_floor() -> falcon.asgi.App:
    """The service storing each event as a line of a file, flushed per group commit: see the
    module's docstring."""
    directory = Path(os.environ.get(DIAGNOSTIC_DIRECTORY_ENV) or tempfile.gettempdir())
    floor = DurableFloor(directory)

    async def append(self: EventStore, event: CallEvent) -> AppendResult:
        return await floor.append(event)

    EventStore.append_async = append  # type: ignore[method-assign]
    return create_app()


class LoopWriter:
    """Batches written on the event loop: requests queue, and one task per loop writes what
    is waiting with the store's own transaction, blocking the loop until it commits."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._waiting: deque[tuple[PreparedEvent, asyncio.Future[AppendResult]]] = deque()
        self._task: asyncio.Task[None] | None = None

    async def append(self, event: CallEvent) -> AppendResult:
        """Queue ``event``; return its result once its batch committed."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((self._store._dialect.prepare(event, self._store._now()), future))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write_waiting())
        return await future

    async def _write_waiting(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # let the requests read meanwhile join the batch
            batch = [self._waiting.popleft() for _ in range(min(len(self._waiting), 128))]
            try:
                with self._store._dialect.writer_lock():
                    results = self._store._write_holding_lock([event for event, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)


def service_writing_on_the_loop() -> falcon.asgi.App:
    """The service writing its batches on the event loop; see the module's docstring."""
    writers: dict[int, LoopWriter] = {}

    async def append(self: EventStore, event: CallEvent) -> AppendResult:
        writer = writers.setdefault(id(self), LoopWriter(self))
        return await writer.append(event)

    EventStore.append_async = append  # type: ignore[method-assign]
    return create_app()


def service_without_outcomes() -> falcon.asgi.App:
    """The service storing every event as it does, without folding it into its call's row."""

    def nothing_stored(self: PreparedBatch, results: object) -> dict[str, object]:
        return {}

    PreparedBatch.stored_by_session = nothing_stored  # type: ignore[method-assign,assignment]
    return create_app()


class WriteTiming:
    """Totals of one process's batches: events, time waiting for the lock and holding it."""

    def __init__(self) -> None:
        self.batches = 0
        self.events = 0
        self.waiting = 0.0
        self.holding = 0.0

    def line(self) -> str:
        """One ``write-timing`` line: per-batch averages since the process started."""
        batches = max(self.batches, 1)
        return (
            f"{TIMING_PREFIX} pid={os.getpid()} batches={self.batches} "
            f"events_per_batch={self.events / batches:.1f} "
            f"lock_wait_ms={self.waiting / batches * 1e3:.2f} "
            f"lock_held_ms={self.holding / batches * 1e3:.2f}"
        )


def time_the_writer_lock(timing: WriteTiming) -> None:
    """From now on, this process's waits for the SQLite writer lock, the time it is held and
    the batches written under it add up in ``timing``.

    It replaces methods of :class:`WriterLock` and :class:`EventStore` for good: call it once
    per process (a second call would count everything twice).
    """
    held = WriterLock.held
    write_holding_lock = EventStore._write_holding_lock

    @contextmanager
    def timed_held(self: WriterLock) -> Iterator[None]:
        asked = time.perf_counter()
        with held(self):
            got = time.perf_counter()
            try:
                yield
            finally:
                timing.waiting += got - asked
                timing.holding += time.perf_counter() - got

    def counted(self: EventStore, events: Sequence[PreparedEvent]) -> list[AppendResult]:
        timing.batches += 1
        timing.events += len(events)
        return write_holding_lock(self, events)

    WriterLock.held = timed_held  # type: ignore[method-assign]
    EventStore._write_holding_lock = counted  # type: ignore[method-assign]


def service_with_write_timing() -> falcon.asgi.App:
    """The service, timing its SQLite writer lock; see the module's docstring."""
    timing = WriteTiming()
    time_the_writer_lock(timing)

    def report() -> None:
        while True:
            time.sleep(TIMING_INTERVAL_SECONDS)
            if timing.batches:
                print(timing.line(), file=sys.stderr, flush=True)

    # Started in the worker (gunicorn imports the app there, after the fork).
    threading.Thread(target=report, name="write-timing", daemon=True).start()
    return create_app()
