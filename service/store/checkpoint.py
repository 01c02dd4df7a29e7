"""Checkpoints of SQLite's write-ahead log, run outside the writer lock.

In WAL mode a commit appends pages to the ``-wal`` file; a checkpoint copies them back into
the database file and flushes it. By default SQLite runs one itself, inside the commit that
takes the log past 1,000 pages (``wal_autocheckpoint``): that commit, and every writer queued
behind it for the one-writer lock, waits for the copy and the flush. For batches of 11 events
of interleaved calls that was about a quarter of the time the lock was held (a one-off
measurement; ``python -m tests.bench.bench_store`` shows the lock time that remains).

A checkpoint needs no writer lock: SQLite runs it beside readers and a writer (``PASSIVE``
mode copies what no reader still needs and never waits). So each process checkpoints on its
own after every :data:`CHECKPOINT_EVERY_EVENTS` events it stored, once the batch's requests
have been answered and the lock released. The log starts over from its beginning only when
a writer finds it entirely copied, which under sustained load it rarely is (another commit
lands during each checkpoint), so it still grows to SQLite's own threshold, raised to 8,000
pages (32 MiB, ``database.py``); that checkpoint, inside a commit, then finds all but the
last few hundred pages copied already, and the log starts over. It is also the safety net
if these checkpoints fail. Counting events rather than commits keeps the checkpoints as
rare under light load (many commits of one event) as under heavy load (few large ones).
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from at_voice_kit.service.store.database import PerProcess
from at_voice_kit.service.store.database_file import database_file

log = logging.getLogger("at_voice_kit.service.store")

CHECKPOINT_EVERY_EVENTS = 128
"""Events stored by one process between its checkpoints: about 1,000 log pages (4 MiB) under
load, when each event changes about 8 pages (its row and index entries, its call's row)."""


class WalCheckpointer:
    """Counts the events one process stores and checkpoints the log every so many, never raising.

    The checkpoint runs on a connection of its own, kept by the process (a pool checkout
    could wait behind readers), and opened again after a fork: a SQLite connection must not
    cross into a child process, after a failure, and when the database file at the path is
    no longer the one it holds (replaced: it would copy a log nobody reads into a file
    nobody reads).
    """

    def __init__(self, engine: sa.Engine, every: int = CHECKPOINT_EVERY_EVENTS) -> None:
        self._every = every
        self._events = 0
        self._due_at = every
        self._running = threading.Lock()
        # engine.raw_connection is looked up at each opening, not bound once here.
        self._connection = PerProcess(lambda: engine.raw_connection())
        self._file = database_file(engine)

    def committed(self, events: int) -> None:
        """Note a commit of ``events`` events. Called holding the writer lock, so additions
        never overlap."""
        self._events += events

    def run_if_due(self) -> None:
        """Checkpoint if enough events were stored and no other thread of this process is.

        Call it without the writer lock and after the batch's requests were answered. A
        failure is logged, not raised: the events are committed whatever becomes of it.
        """
        if self._events < self._due_at or not self._running.acquire(blocking=False):
            return
        try:
            # Only this thread moves the mark; the count only grows, so none is lost.
            self._due_at = self._events + self._every
            busy, log_pages, copied = self._checkpoint()
            if busy:
                log.debug("WAL checkpoint: another was running (%s of %s pages)", copied, log_pages)
        except Exception as exc:
            self._close()
            log.warning("WAL checkpoint failed (SQLite's automatic one still runs): %s", exc)
        finally:
            self._running.release()

    def close(self) -> None:
        """Close this process's checkpoint connection; the next checkpoint opens another."""
        with self._running:
            self._close()

    def _checkpoint(self) -> tuple[int, int, int]:
        # The connection is in autocommit (database.py): no transaction of its own pins a
        # snapshot of the log, which would keep the checkpoint from copying past it.
        connection = self._connection.get()
        if not self._file.holds(connection.info, self._file.identity()):
            self._close()
            connection = self._connection.get()  # the file now at the path, if there is one
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            row = cursor.fetchone()
            assert row is not None, "wal_checkpoint answers one row"
            busy, log_pages, copied = row
        finally:
            cursor.close()
        return int(busy), int(log_pages), int(copied)

    def _close(self) -> None:
        connection = self._connection.discard()
        if connection is not None:
            try:
                connection.invalidate()
            except Exception:  # already broken: nothing more to release
                log.debug("closing the checkpoint connection failed", exc_info=True)
