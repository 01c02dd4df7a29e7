"""What every engine of the store needs, whichever the database: a URL it can use, a pool
of its own in each forked process, spoiled connections replaced, and read-only connections.

The settings of each database are in its strategy (``sqlite.py``, ``postgres.py``); both hide
statement parameters from error messages: they are call data (phone numbers), and errors are
logged.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

ResourceT = TypeVar("ResourceT")

READ_ONLY = "avk_read_only"
"""Execution option marking a connection that only reads (no write lock on SQLite)."""
_PARENTS_POOLS: list[sa.pool.Pool] = []
"""In a forked child, the pools it inherited: kept, never used, never closed."""


class Faults(Protocol):
    """How a database's errors are read (each strategy's own error codes)."""

    def spoils_connection(self, error: BaseException) -> bool:
        """True if the connection that raised ``error`` must be replaced, not used again."""

    def is_contention(self, error: BaseException) -> bool:
        """True if ``error`` came from waiting on others (a lock, a timeout)."""


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


def replace_spoiled_connections(engine: Engine, faults: Faults) -> None:
    """An error that spoils its connection (``faults.spoils_connection``: opened read-only,
    its file broken, a PostgreSQL session begun read-only) is handled as a lost connection:
    SQLAlchemy closes it instead of pooling it again, and replaces every pooled connection
    opened before it, which may be spoiled the same way, at their next checkout."""

    @event.listens_for(engine, "handle_error")
    def _spoiled(context: sa.engine.ExceptionContext) -> None:
        if faults.spoils_connection(context.sqlalchemy_exception or context.original_exception):
            context.is_disconnect = True


def new_pool_after_fork(engine: Engine) -> None:
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
