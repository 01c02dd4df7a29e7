"""Checkpoints of SQLite's write-ahead log, run outside the writer lock.

In WAL mode a commit appends pages to the ``-wal`` file; a checkpoint copies them back into
the database file and flushes it. SQLite runs one by itself inside the commit that takes the
log past 1,000 pages (``wal_autocheckpoint``): that commit, and every writer queued behind
it for the one-writer lock, waits for the copy and the flush. Under load that was a fifth of
the time the writer lock was held (measured with ``tests/bench/bench_store.py``).

A checkpoint needs no writer lock: SQLite runs it beside readers and a writer (``PASSIVE``
mode copies what no reader still needs and never waits). So each process checkpoints on its
own after every :data:`CHECKPOINT_EVERY_COMMITS` of its commits, once the batch's requests
have been answered and the lock released, and the log rarely reaches the automatic
threshold. SQLite's own checkpoint stays as the safety net: if these fail, it still runs.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

log = logging.getLogger("service.store")

CHECKPOINT_EVERY_COMMITS = 16
"""Commits of one process between its checkpoints: about 1,500 log pages at full load."""


class WalCheckpointer:
    """Counts one process's commits and checkpoints the log every so many, never raising."""

    def __init__(self, engine: sa.Engine, every: int = CHECKPOINT_EVERY_COMMITS) -> None:
        self._engine = engine
        self._every = every
        self._commits = 0
        self._running = threading.Lock()

    def committed(self) -> None:
        """Note one commit; the caller holds the writer lock, so no two threads count at once."""
        self._commits += 1

    def run_if_due(self) -> None:
        """Checkpoint if enough commits have passed and no other thread of this process is.

        Call it without the writer lock and after the batch's requests were answered. A
        failure is logged, not raised: the events are committed whatever becomes of it.
        """
        if self._commits < self._every or not self._running.acquire(blocking=False):
            return
        try:
            self._commits = 0
            # A pooled connection in autocommit (see database.py): the pragma runs outside
            # any transaction, as a checkpoint must.
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.fetchall()
                cursor.close()
            finally:
                connection.close()
        except Exception as exc:
            log.warning("WAL checkpoint failed (SQLite's automatic one still runs): %s", exc)
        finally:
            self._running.release()
