"""Variants of the service that show where its time goes (``bench_service --diagnose``).

Each runs in its own gunicorn, under the same settings and load as the service and the
baseline; neither is ever run in production.

- :func:`service_without_store`: the service, with its event store replaced by one that keeps
  nothing. Its throughput against the baseline's is what HTTP parsing, Falcon, the middleware
  and form validation cost; the rest of the service's gap is the durable store.
- :func:`service_with_write_timing`: the service itself, reporting how long each process waits
  for the SQLite writer lock and holds it per batch, and how many events a batch carries, in
  ``write-timing`` lines on standard error (the gunicorn log), every two seconds.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import falcon

from service.app import create_app
from service.store import AppendResult, CallEvent, EventStore
from service.store.batch_write import PreparedEvent
from service.store.database import WriterLock

TIMING_PREFIX = "write-timing"
TIMING_INTERVAL_SECONDS = 2.0
TIMING_LINE = re.compile(
    rf"^{TIMING_PREFIX} pid=(?P<pid>\d+) batches=(?P<batches>\d+) "
    r"events_per_batch=(?P<events_per_batch>[\d.]+) lock_wait_ms=(?P<lock_wait_ms>[\d.]+) "
    r"lock_held_ms=(?P<lock_held_ms>[\d.]+)$"
)
"""A whole line written by :meth:`WriteTiming.line` (workers share one log, so a line may be
cut into by another's: only whole lines match)."""


def service_without_store() -> falcon.App[falcon.Request, falcon.Response]:
    """The service with an event store that stores nothing and answers every event as new."""

    def discard(self: EventStore, event: CallEvent) -> AppendResult:
        return AppendResult(stored=True)

    EventStore.append = discard  # type: ignore[method-assign]
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
    append_holding_lock = EventStore._append_holding_lock

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
        return append_holding_lock(self, events)

    WriterLock.held = timed_held  # type: ignore[method-assign]
    EventStore._append_holding_lock = counted  # type: ignore[method-assign]


def service_with_write_timing() -> falcon.App[falcon.Request, falcon.Response]:
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
