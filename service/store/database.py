"""Database engines with the settings that make commits durable and connections bounded.

SQLite: WAL journal with ``synchronous=FULL`` (a commit survives power loss, not only a
process crash), a busy timeout instead of instant "database is locked" errors, and
``BEGIN IMMEDIATE`` for transactions so two writers never deadlock upgrading a read lock;
connections never create the file, and one whose file went stale is replaced
(``database_file.py``). PostgreSQL: a bounded connection pool, pre-ping (a restarted
database is not an error), and a statement timeout so a stuck query cannot pin a worker.
Both replace a connection an error has spoiled, with every other pooled connection opened
before it (``failures.py``), and hide statement parameters from error messages: they are
call data (phone numbers), and errors are logged.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from at_voice_kit.service.store.database_file import database_file
from at_voice_kit.service.store.failures import StoreUnavailable, spoils_connection

ResourceT = TypeVar("ResourceT")

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_AUTO_CHECKPOINT_PAGES = 8_000
"""SQLite's own checkpoint, inside a commit, only past this many log pages (32 MiB): by then
the checkpoints each process runs outside the writer lock (checkpoint.py) have copied nearly
all of them, and if those fail, this one still keeps the log bounded."""
SQLITE_WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
"""A log file left larger than this by a burst is cut back to it once checkpointed."""
READ_ONLY = "avk_read_only"
"""Execution option marking a connection that only reads (no write lock on SQLite)."""
CONNECT_TIMEOUT_SECONDS = 5
_PARENTS_POOLS: list[sa.pool.Pool] = []
"""In a forked child, the pools it inherited: kept, never used, never closed."""


class UnsupportedDatabase(ValueError):
    """A database URL the event store cannot use; the message says why and what would do."""


def check_database_url(url: str | URL) -> URL:
    """Parse ``url`` and check that the store can use it, before anything connects.

    It must be SQLite on a file, or PostgreSQL with its driver installed; anything else
    raises :class:`UnsupportedDatabase`.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise UnsupportedDatabase(
            "must be a SQLAlchemy URL such as sqlite:///voice.db or "
            "postgresql+psycopg://user:password@host/database"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if not database or ":memory:" in database or _is_memory_uri(parsed):
            # Each pooled connection would get its own empty in-memory database, and every
            # acknowledged event would be gone at the next restart.
            raise UnsupportedDatabase(
                "SQLite needs a file path (sqlite:///path/to/file.db), not an in-memory database"
            )
        if parsed.get_driver_name() != "pysqlite":
            raise UnsupportedDatabase(
                f"the SQLite driver {parsed.get_driver_name()!r} is not supported: use "
                "sqlite:///path/to/file.db (Python's own sqlite3)"
            )
    elif backend == "postgresql":
        try:
            parsed.get_dialect().import_dbapi()
        except (ImportError, sa.exc.NoSuchModuleError) as exc:
            raise UnsupportedDatabase(
                f"the PostgreSQL driver {parsed.get_driver_name()!r} is not installed: "
                "pip install 'at-voice-kit[postgres]' and use postgresql+psycopg://..."
            ) from exc
    else:
        raise UnsupportedDatabase(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed


def _is_memory_uri(url: URL) -> bool:
    """``sqlite:///file:x?mode=memory&uri=true`` and the like: a SQLite URI opening memory."""
    mode = url.query.get("mode")
    modes = mode if isinstance(mode, tuple) else (mode,)
    return "memory" in modes


def create_database_engine(
    url: str | URL, *, pool_size: int = 5, statement_timeout_ms: int = 5000
) -> Engine:
    """Create the engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``)."""
    parsed = check_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    else:
        engine = _postgres_engine(parsed, pool_size, statement_timeout_ms)
    _replace_spoiled_connections(engine)
    _new_pool_after_fork(engine)
    return engine


def _replace_spoiled_connections(engine: Engine) -> None:
    """An error that spoils its connection (``failures.spoils_connection``: opened read-only,
    its file broken, a PostgreSQL session begun read-only) is handled as a lost connection:
    SQLAlchemy closes it instead of pooling it again, and replaces every pooled connection
    opened before it, which may be spoiled the same way, at their next checkout."""

    @event.listens_for(engine, "handle_error")
    def _spoiled(context: sa.engine.ExceptionContext) -> None:
        if spoils_connection(context.sqlalchemy_exception or context.original_exception):
            context.is_disconnect = True


def _new_pool_after_fork(engine: Engine) -> None:
    """A child process forked with ``engine`` (gunicorn's workers under ``--preload``, where
    the master builds the app and migrates) starts with an empty pool of its own.

    The pooled connections it inherits are the parent's: a PostgreSQL socket used by two
    processes mixes their conversations, and SQLite forbids using a connection across
    ``fork()``. The child sets them aside without closing them, as SQLAlchemy prescribes
    (``Engine.dispose(close=False)``), and keeps the old pool referenced so that garbage
    collection never closes them either: closing a SQLite connection's file in the child
    would drop the child's own locks on that file (POSIX locks belong to a process, not a
    descriptor). The engine is held weakly: one dropped by its owner is not kept for forks.
    """
    reference = weakref.ref(engine)

    def forget_parents_connections() -> None:
        inherited = reference()
        if inherited is not None:
            _PARENTS_POOLS.append(inherited.pool)
            inherited.dispose(close=False)

    os.register_at_fork(after_in_child=forget_parents_connections)


def _sqlite_engine(url: URL) -> Engine:
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
    return engine


def _postgres_engine(url: URL, pool_size: int, statement_timeout_ms: int) -> Engine:
    return sa.create_engine(
        url,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=CONNECT_TIMEOUT_SECONDS,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={int(statement_timeout_ms)}",
            "application_name": "at-voice-kit",
        },
    )


def read_connection(engine: Engine) -> sa.Connection:
    """A connection for queries that only read."""
    return engine.connect().execution_options(**{READ_ONLY: True})


class PerProcess(Generic[ResourceT]):
    """A resource each process opens for itself: on first use, and again after a fork.

    gunicorn forks its workers; a SQLite connection or a lock file's descriptor inherited
    over ``fork()`` belongs to the parent (a descriptor even shares the parent's lock), so a
    child never uses one.
    """

    def __init__(self, open_resource: Callable[[], ResourceT]) -> None:
        self._open = open_resource
        self._resource: ResourceT | None = None
        self._pid = 0

    def get(self) -> ResourceT:
        """This process's resource, opened now if it has none."""
        if self._resource is None or self._pid != os.getpid():
            self._resource = self._open()
            self._pid = os.getpid()
        return self._resource

    def current(self) -> ResourceT | None:
        """This process's resource if it has opened one, without opening it."""
        return self._resource if self._pid == os.getpid() else None

    def discard(self) -> ResourceT | None:
        """Forget the resource (the next :meth:`get` opens another); return it for the
        caller to close if this process opened it, ``None`` otherwise."""
        resource, self._resource = self._resource, None
        return resource if self._pid == os.getpid() else None


class WriterLock:
    """Serialises the writers of one SQLite database across processes, without polling.

    SQLite lets one writer in at a time, and one that finds the database locked sleeps and
    retries (1, 2, 5, 10 ms and longer), which under load wastes most of the time a commit
    takes. A blocking ``flock`` on a file beside the database queues the writers in the
    kernel instead, and wakes the next one the moment the lock is released. The kernel also
    releases it when a process dies, even by ``kill -9``. For PostgreSQL it does nothing:
    the server's row locks order its writers.

    The file is opened for reading only (``flock`` needs no more), so a lock file or disk
    turned read-only does not stop the writers; and it is opened again when the file at
    its path is no longer the one this process holds (``rm voice-events.db*`` removes it
    too): processes locking different files would not exclude each other.
    """

    SUFFIX = "-writer.lock"

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._path = str(Path(database).expanduser().resolve()) + self.SUFFIX if database else None
        self._threads = threading.Lock()
        self._file = PerProcess(self._open_file)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the duration of the block (one write transaction)."""
        if self._path is None:
            yield
            return
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
        assert self._path is not None
        held = os.fstat(fd)
        try:
            current = os.stat(self._path)
        except FileNotFoundError:
            return False
        return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)

    def _open_file(self) -> int:
        assert self._path is not None
        try:
            return os.open(self._path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreUnavailable(
                f"the writer lock file {self._path} cannot be opened: {exc.strerror}"
            ) from exc
