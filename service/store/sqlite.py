"""The SQLite strategy of the event store: a file, one writer at a time, a write-ahead log.

The engine: WAL journal with ``synchronous=FULL`` (a commit survives power loss, not only a
process crash), a busy timeout instead of instant "database is locked" errors, and ``BEGIN
IMMEDIATE`` for write transactions so two writers never deadlock upgrading a read lock;
connections never create the file, and one whose file went stale is replaced
(``database_file.py``). The writers of all processes queue for a lock file beside the
database (:class:`WriterLock`). Each process writes on one connection it keeps, checked
against the file at the path before and after each commit; and checkpoints the log now and
then outside the lock (``checkpoint.py``). Faults are read from SQLite's result codes.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from at_voice_kit.service.store.batch_write import PreparedBatch, PreparedEvent
from at_voice_kit.service.store.checkpoint import WalCheckpointer
from at_voice_kit.service.store.database import (
    READ_ONLY,
    PerProcess,
    read_connection,
    replace_spoiled_connections,
)
from at_voice_kit.service.store.database_file import DatabaseFile, database_file
from at_voice_kit.service.store.failures import StoreUnavailable, driver_error, failure_reason
from at_voice_kit.service.store.records import AppendResult, CallEvent
from at_voice_kit.service.store.sqlite_batch_write import SQLiteBatchWriter

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_AUTO_CHECKPOINT_PAGES = 8_000
"""SQLite's own checkpoint, inside a commit, only past this many log pages (32 MiB): by then
the checkpoints each process runs outside the writer lock (checkpoint.py) have copied nearly
all of them, and if those fail, this one still keeps the log bounded."""
SQLITE_WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
"""A log file left larger than this by a burst is cut back to it once checkpointed."""

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_SPOILED_CONNECTION_CODES = frozenset(
    {
        8,  # SQLITE_READONLY: opened read-only (the file was), or the file moved under it
        10,  # SQLITE_IOERR
        11,  # SQLITE_CORRUPT
        14,  # SQLITE_CANTOPEN
        26,  # SQLITE_NOTADB
    }
)
"""SQLite primary result codes after which the connection's file handle is not to be trusted:
a connection opened read-only stays read-only, however writable the file has become since."""


class SQLiteFaults:
    """SQLite's errors, read by their primary result code."""

    @staticmethod
    def _code(error: BaseException) -> int | None:
        code = getattr(driver_error(error), "sqlite_errorcode", None)
        return code & 0xFF if isinstance(code, int) else None

    def spoils_connection(self, error: BaseException) -> bool:
        """Opened read-only, its file broken or gone: the connection is not used again."""
        return self._code(error) in SQLITE_SPOILED_CONNECTION_CODES

    def is_contention(self, error: BaseException) -> bool:
        """Busy or locked: another writer held the database."""
        return isinstance(error, sa.exc.TimeoutError) or self._code(error) in (
            SQLITE_BUSY,
            SQLITE_LOCKED,
        )


def sqlite_engine(url: URL) -> Engine:
    """The engine of a SQLite file (see the module's docstring)."""
    # "~" is expanded here, once, for every use of the path: SQLite itself would open a
    # directory literally named "~".
    database = str(Path(url.database or "").expanduser())
    url = url.set(database=database)
    Path(database).resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite's own
        # implicit BEGIN is deferred and would let two writers deadlock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTO_CHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_SIZE_LIMIT_BYTES}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # Readers take no write lock: in WAL mode they never block, nor are blocked by, writers.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    database_file(engine)  # opens the file without creating it, replaces stale connections
    replace_spoiled_connections(engine, SQLiteFaults())
    return engine


class WriterLock:
    """Serialises the writers of one SQLite database across processes, without polling.

    SQLite lets one writer in at a time, and one that finds the database locked sleeps and
    retries (1, 2, 5, 10 ms and longer), which under load wastes most of the time a commit
    takes. A blocking ``flock`` on a file beside the database queues the writers in the
    kernel instead, and wakes the next one the moment the lock is released. The kernel also
    releases it when a process dies, even by ``kill -9``.

    The file is opened for reading only (``flock`` needs no more), so a lock file or disk
    turned read-only does not stop the writers; and it is opened again when the file at
    its path is no longer the one this process holds (``rm voice-events.db*`` removes it
    too): processes locking different files would not exclude each other.
    """

    SUFFIX = "-writer.lock"

    def __init__(self, engine: Engine) -> None:
        self._path = str(Path(engine.url.database or "").expanduser().resolve()) + self.SUFFIX
        self._threads = threading.Lock()
        self._file = PerProcess(self._open_file)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the duration of the block (one write transaction)."""
        with self._threads:
            fd = self._locked_file()
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _locked_file(self) -> int:
        """This process's descriptor of the lock file now at the path, locked."""
        for _ in range(3):
            fd = self._file.get()
            fcntl.flock(fd, fcntl.LOCK_EX)
            if self._is_at_path(fd):
                return fd
            fcntl.flock(fd, fcntl.LOCK_UN)
            stale = self._file.discard()
            if stale is not None:
                os.close(stale)
        raise StoreUnavailable(f"the writer lock file {self._path} keeps being replaced")

    def _is_at_path(self, fd: int) -> bool:
        held = os.fstat(fd)
        try:
            current = os.stat(self._path)
        except FileNotFoundError:
            return False
        return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)

    def _open_file(self) -> int:
        try:
            return os.open(self._path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreUnavailable(
                f"the writer lock file {self._path} cannot be opened: {exc.strerror}"
            ) from exc


class SQLiteDialect(SQLiteFaults):
    """The event store's strategy on SQLite."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._file: DatabaseFile = database_file(engine)
        self._writer = SQLiteBatchWriter(engine.dialect)
        self._lock = WriterLock(engine)
        self._connection = PerProcess(engine.connect)
        self._checkpointer = WalCheckpointer(engine)

    def prepare(self, event: CallEvent, received_at: datetime) -> PreparedEvent:
        """The event with its row already in the driver's values."""
        return self._writer.prepare(event, received_at)

    def write(self, connection: sa.Connection, batch: PreparedBatch) -> list[AppendResult]:
        """Three plain statements on the driver (``sqlite_batch_write.py``)."""
        return self._writer.write(connection, batch)

    def writer_lock(self) -> AbstractContextManager[None]:
        """The lock file that lets one process write at a time."""
        return self._lock.held()

    @contextmanager
    def write_transaction(self) -> Iterator[sa.Connection]:
        """A transaction on this process's write connection (a file has no server to go
        away, and a pool checkout per batch is measurable), which must hold the file now at
        the path before the transaction and still after its commit: otherwise the batch is
        refused, never acknowledged (``database_file.py``). After any failure the connection
        is closed, never pooled again; after one that spoils connections (read-only, I/O),
        so is every other connection this process holds to the file, which may share the
        spoiled state."""
        connection = self._write_connection()
        try:
            with connection.begin():
                yield connection
            self._file.require(connection.connection.info)
        except BaseException as exc:
            self._connection.discard()
            connection.invalidate()
            # A file or log that is gone or replaced is held by every connection opened
            # before: SQLite copies a deleted log into the database only once all let go.
            if self.spoils_connection(exc) or isinstance(exc, StoreUnavailable):
                self._close_connections()
            raise

    def _write_connection(self) -> sa.Connection:
        """This process's write connection, on the file now at the path."""
        now = self._file.identity()
        if now is None:
            raise self._file.gone()
        connection = self._connection.get()
        if not self._file.holds(connection.connection.info, now):
            # Replaced (a backup restored over it), or its log deleted: so are the other
            # connections of this process; the next connection opens the files at the path.
            self._connection.discard()
            connection.invalidate()
            self._close_connections()
            connection = self._connection.get()
        return connection

    def _writer_is_stale(self) -> bool:
        """Whether this process's write connection holds a database file or log that is no
        longer the one at the path (deleted or replaced under it)."""
        connection = self._connection.current()
        if connection is None:
            return False
        try:
            info = connection.connection.info
        except sa.exc.SQLAlchemyError:  # invalidated by a write failing right now
            return True
        return not self._file.holds(info, self._file.identity())

    def _release_stale_writer(self) -> None:
        """Close this process's connections when its writer holds a file or log that was
        deleted or replaced. An idle process must let go too: SQLite copies a deleted log
        into the database, and lets new connections read it, only once every connection
        holding that log is closed."""
        with self._lock.held():
            if self._writer_is_stale():
                connection = self._connection.discard()
                if connection is not None:
                    connection.invalidate()
                self._close_connections()

    def _close_connections(self) -> None:
        """Close every connection this process holds to the file: SQLite shares a read-only
        state among them (``database_file.py``). Those checked out now go back to a pool the
        engine no longer uses, and are closed with it."""
        self._engine.dispose()
        self._checkpointer.close()

    def committed(self, events: int) -> None:
        """Count the events towards the next checkpoint."""
        self._checkpointer.committed(events)

    def housekeeping(self) -> None:
        """Checkpoint the log if enough events were stored since the last one."""
        self._checkpointer.run_if_due()

    def write_problem(self) -> str | None:
        """The file gone, read-only or on a nearly full disk; or the database unreadable."""
        problem = self._file.problem()
        if problem is not None:
            return problem
        try:
            if self._writer_is_stale():
                self._release_stale_writer()
        except StoreUnavailable as exc:  # the writer lock file cannot be opened
            return str(exc)
        try:
            with read_connection(self._engine):
                return None
        except sa.exc.SQLAlchemyError as exc:
            return f"database unreachable: {failure_reason(exc)}"
        except StoreUnavailable as exc:
            return str(exc)

    def before_migrating(self, *, create_missing: bool) -> None:
        """Create the file at the first start; afterwards a missing file is an outage."""
        if create_missing:
            self._file.create()
        elif self._file.identity() is None:
            raise self._file.gone()

    def lock_schema(self, connection: sa.Connection) -> None:
        """Nothing: the migration's ``BEGIN IMMEDIATE`` already lets one writer in."""
