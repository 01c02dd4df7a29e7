"""Appending call events: durable, idempotent, and keeping each call's derived outcome current.

An event is acknowledged only after :meth:`EventStore.append_async` returns, which is after
the transaction that stored it committed, into the database the store is configured with
(SQLite: the file now at the configured path, checked before and after each commit). Appends
arriving together share one transaction, written by the process's one writer
(``commit_queue.py``). Redeliveries (same source and identical fields) are stored once: the
unique ``dedup_key`` makes the second insert a no-op, race-free across workers and instances.
The store remembers whether its writes commit, for the readiness probe (``write_health.py``).
What differs between SQLite and PostgreSQL is the database's strategy (``dialect.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.exc

from at_voice_kit.service.store.batch_write import PreparedBatch, PreparedEvent
from at_voice_kit.service.store.commit_queue import (
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_WAIT_SECONDS,
    CommitQueue,
)
from at_voice_kit.service.store.database import read_connection
from at_voice_kit.service.store.dialect import dialect_for
from at_voice_kit.service.store.failures import StoreUnavailable
from at_voice_kit.service.store.queries import CallHistory, CallPage, get_call, list_calls
from at_voice_kit.service.store.records import AppendResult, CallEvent, EventSource
from at_voice_kit.service.store.schema import migrate, trial_write
from at_voice_kit.service.store.write_health import READY, Readiness, WriteHealth

__all__ = ["AppendResult", "CallEvent", "EventSource", "EventStore"]


class EventStore:
    """The event log and the per-call outcomes derived from it.

    ``now`` stamps each event's arrival; ``clock`` (monotonic seconds) paces the trial
    writes of the readiness probe; ``max_wait`` bounds how long an append waits for the
    writer before it is refused.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_batch: int = DEFAULT_MAX_BATCH,
        max_wait: float = DEFAULT_MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self._now = now
        self._dialect = dialect_for(engine)
        self._health = WriteHealth(self._dialect, clock)
        self._trial = threading.Lock()
        self._queue: CommitQueue[PreparedEvent, AppendResult] = CommitQueue(
            self._write_holding_lock,
            max_batch=max_batch,
            max_wait=max_wait,
            gate=self._dialect.writer_lock,
            after_batch=self._dialect.housekeeping,
        )

    def migrate(self, *, create_missing: bool = True) -> int:
        """Create or upgrade the schema; return its version.

        SQLite: an absent database file is created only with ``create_missing`` (at the
        service's start); otherwise :class:`StoreUnavailable` is raised.
        """
        try:
            self._dialect.before_migrating(create_missing=create_missing)
            return migrate(self.engine, self._dialect.lock_schema)
        except Exception as exc:
            self._health.failed(exc)
            raise

    def readiness(self) -> Readiness:
        """Whether a write can commit now, found without writing on the happy path.

        Not ready when the database shows it cannot take a write (unreachable or read-only;
        SQLite: the file gone, read-only, its disk nearly full), or this process's last
        commit attempt failed and a trial write (at most one every few seconds) fails too.
        """
        problem = self._dialect.write_problem()
        if problem is not None:
            return Readiness(ready=False, reason=problem)
        if self._health.trial_due() and self._trial.acquire(blocking=False):
            try:
                self._trial_write()
            finally:
                self._trial.release()
        failure = self._health.failure()
        if failure is not None:
            return Readiness(ready=False, reason=f"the last write failed: {failure}")
        return READY

    def _trial_write(self) -> None:
        """One write that leaves nothing behind, recorded like any other commit attempt."""
        try:
            with self._dialect.writer_lock(), self._recorded_write() as connection:
                trial_write(connection)
        except (sqlalchemy.exc.SQLAlchemyError, StoreUnavailable):
            pass  # recorded: readiness reports it

    def list_calls(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        number: str | None = None,
        status: str | None = None,
    ) -> CallPage:
        """A page of calls, newest first; see
        :func:`at_voice_kit.service.store.queries.list_calls`."""
        with read_connection(self.engine) as connection:
            return list_calls(connection, limit=limit, cursor=cursor, number=number, status=status)

    def get_call(self, session_id: str) -> CallHistory | None:
        """One call and all its events, or ``None``."""
        with read_connection(self.engine) as connection:
            return get_call(connection, session_id)

    async def append_async(self, event: CallEvent) -> AppendResult:
        """Store ``event`` durably (committed when this returns) unless it is a redelivery.

        Concurrent appends are committed together by this process's writer (group commit),
        each answered once the transaction holding it has committed; one that waited too
        long for the writer raises :class:`~at_voice_kit.service.store.commit_queue.Overloaded`
        and is not stored.
        """
        # Prepared on the loop, so the writer lock is held only for the writes.
        return await self._queue.submit(self._dialect.prepare(event, self._now()))

    def append(self, event: CallEvent) -> AppendResult:
        """Store ``event`` durably from a thread that may block: one transaction of its own."""
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[CallEvent]) -> list[AppendResult]:
        """Store several events in one transaction: one commit (one fsync) for all of them."""
        if not events:
            return []
        received_at = self._now()
        prepared = [self._dialect.prepare(event, received_at) for event in events]
        with self._dialect.writer_lock():
            results = self._write_holding_lock(prepared)
        self._dialect.housekeeping()
        return results

    def _write_holding_lock(self, events: Sequence[PreparedEvent]) -> list[AppendResult]:
        with self._recorded_write() as connection:
            results = self._dialect.write(connection, PreparedBatch.of(events))
        self._dialect.committed(len(events))
        return results

    @contextmanager
    def _recorded_write(self) -> Iterator[sa.Connection]:
        """The dialect's write transaction, its outcome remembered for readiness."""
        try:
            with self._dialect.write_transaction() as connection:
                yield connection
        except BaseException as exc:
            self._health.failed(exc)
            raise
        self._health.succeeded()
