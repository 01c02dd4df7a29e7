"""Appending call events: durable, idempotent, and keeping each call's derived outcome current.

An event is acknowledged only after :meth:`EventStore.append` returns, which is after the
transaction that stored it committed, into the database file now at the configured path
(SQLite: checked before and after each commit, ``database_file.py``). Appends arriving
together share one transaction (see :mod:`at_voice_kit.service.store.group_commit`). Redeliveries
(same source and identical fields) are stored once: the unique ``dedup_key`` makes the second insert
a no-op, in one statement, race-free across workers and instances. The store remembers whether its
writes commit, for the readiness probe (``write_health.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.exc

from at_voice_kit.service.store.batch_write import BatchWriter, PreparedBatch, PreparedEvent
from at_voice_kit.service.store.checkpoint import WalCheckpointer
from at_voice_kit.service.store.commit_queue import (
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_WAIT_SECONDS,
    CommitQueue,
)
from at_voice_kit.service.store.database import PerProcess, WriterLock, read_connection
from at_voice_kit.service.store.database_file import database_file
from at_voice_kit.service.store.failures import StoreUnavailable, failure_reason, spoils_connection
from at_voice_kit.service.store.queries import CallHistory, CallPage, get_call, list_calls
from at_voice_kit.service.store.records import AppendResult, CallEvent, EventSource
from at_voice_kit.service.store.schema import migrate, trial_write
from at_voice_kit.service.store.sqlite_batch_write import SQLiteBatchWriter
from at_voice_kit.service.store.write_health import READY, Readiness, WriteHealth

__all__ = ["AppendResult", "CallEvent", "EventSource", "EventStore"]


class EventStore:
    """The event log and the per-call outcomes derived from it.

    ``now`` stamps each event's arrival; ``clock`` (monotonic seconds) paces the trial
    writes of the readiness probe.
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
        self._sqlite = engine.dialect.name == "sqlite"
        self._writer: BatchWriter | SQLiteBatchWriter = (
            SQLiteBatchWriter(engine.dialect) if self._sqlite else BatchWriter(engine.dialect.name)
        )
        self._writer_lock = WriterLock(engine)
        self._write_connection = PerProcess(lambda: self.engine.connect())
        self._file = database_file(engine)
        self._health = WriteHealth(clock)
        self._trial = threading.Lock()
        self._checkpointer = WalCheckpointer(engine) if self._sqlite else None
        self._queue: CommitQueue[PreparedEvent, AppendResult] = CommitQueue(
            self._append_holding_lock,
            max_batch=max_batch,
            max_wait=max_wait,
            gate=self._writer_lock.held,
            after_batch=self._checkpoint_if_due,
        )

    def migrate(self, *, create_missing: bool = True) -> int:
        """Create or upgrade the schema; return its version.

        SQLite: an absent database file is created only with ``create_missing`` (at the
        service's start); otherwise :class:`StoreUnavailable` is raised.
        """
        try:
            if self._file is not None and create_missing:
                self._file.create()
            elif self._file is not None and self._file.identity() is None:
                raise self._file.gone()
            return migrate(self.engine)
        except Exception as exc:
            self._health.failed(exc)
            raise

    def readiness(self) -> Readiness:
        """Whether a write can commit now, found without writing on the happy path.

        Not ready when the database file shows it cannot take a write (gone, read-only, its
        disk nearly full), the database is unreachable or read-only, or this process's last
        commit attempt failed and a trial write (at most one every few seconds) fails too.
        """
        problem = self._file.problem() if self._file is not None else None
        if problem is None:
            problem = self._database_problem()
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

    def _database_problem(self) -> str | None:
        """Why the database cannot take a write (unreachable, read-only), as a query that
        writes nothing shows."""
        try:
            with read_connection(self.engine) as connection:
                if not self._sqlite and _postgres_is_read_only(connection):
                    # This session began read-only and would stay so: not pooled again.
                    connection.invalidate()
                    return "the database is read-only (a standby, or read-only transactions)"
        except sqlalchemy.exc.SQLAlchemyError as exc:
            return f"database unreachable: {failure_reason(exc)}"
        except StoreUnavailable as exc:
            return str(exc)
        return None

    def _trial_write(self) -> None:
        """One write that leaves nothing behind, recorded like any other commit attempt."""
        try:
            with self._writer_lock.held(), self._recorded_write() as connection:
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
        return await self._queue.submit(self._writer.prepare(event, self._now()))

    def append(self, event: CallEvent) -> AppendResult:
        """Store ``event`` durably from a thread that may block: one transaction of its own."""
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[CallEvent]) -> list[AppendResult]:
        """Store several events in one transaction: one commit (one fsync) for all of them."""
        if not events:
            return []
        received_at = self._now()
        prepared = [self._writer.prepare(event, received_at) for event in events]
        with self._writer_lock.held():
            results = self._append_holding_lock(prepared)
        self._checkpoint_if_due()
        return results

    def _append_holding_lock(self, events: Sequence[PreparedEvent]) -> list[AppendResult]:
        with self._recorded_write() as connection:
            results = self._writer.write(connection, PreparedBatch.of(events))
        if self._checkpointer is not None:
            self._checkpointer.committed(len(events))
        return results

    def _checkpoint_if_due(self) -> None:
        """SQLite: checkpoint the write-ahead log now and then, without the writer lock."""
        if self._checkpointer is not None:
            self._checkpointer.run_if_due()

    @contextmanager
    def _recorded_write(self) -> Iterator[sa.Connection]:
        """:meth:`_write_transaction`, its outcome remembered for readiness."""
        try:
            with self._write_transaction() as connection:
                yield connection
        except BaseException as exc:
            self._health.failed(exc)
            raise
        self._health.succeeded()

    @contextmanager
    def _write_transaction(self) -> Iterator[sa.Connection]:
        """A transaction to write in; the caller holds the writer lock.

        SQLite: on a connection kept by this process for its writes (a file has no server
        to go away, and a pool checkout per batch is measurable), which must hold the file
        now at the path before the transaction and still after its commit: otherwise the
        batch is refused, never acknowledged (``database_file.py``). After any failure the
        connection is closed, never pooled again; after one that spoils connections (read-only,
        I/O), so is every other connection this process holds to the file, which may share
        the spoiled state. PostgreSQL: from the pool, whose pre-ping replaces connections a
        database restart has broken (and ``database.py`` those a read-only session spoiled).
        """
        if not self._sqlite:
            with self.engine.begin() as connection:
                yield connection
            return
        connection = self._writer_connection()
        try:
            with connection.begin():
                yield connection
            assert self._file is not None
            self._file.require(connection.connection.info)
        except BaseException as exc:
            self._write_connection.discard()
            connection.invalidate()
            if spoils_connection(exc):
                self._close_connections()
            raise

    def _close_connections(self) -> None:
        """Close every connection this process holds to the SQLite file: SQLite shares a
        read-only state among them (``database_file.py``). Those checked out now go back to
        a pool the engine no longer uses, and are closed with it."""
        self.engine.dispose()
        if self._checkpointer is not None:
            self._checkpointer.close()

    def _writer_connection(self) -> sa.Connection:
        """This process's SQLite write connection, on the file now at the path."""
        assert self._file is not None
        now = self._file.identity()
        if now is None:
            raise self._file.gone()
        connection = self._write_connection.get()
        if not self._file.holds(connection.connection.info, now):
            # Replaced (a backup restored over it): the next connection opens the new file.
            self._write_connection.discard()
            connection.invalidate()
            connection = self._write_connection.get()
        return connection


def _postgres_is_read_only(connection: sa.Connection) -> bool:
    return bool(
        connection.execute(
            sa.text("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")
        ).scalar()
    )
