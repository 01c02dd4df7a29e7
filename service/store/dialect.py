"""What differs between the databases the store runs on: one small strategy per database.

The event store (``events.py``) writes, locks, checkpoints and reads the database's faults
through a :class:`Dialect`, chosen once per engine by :func:`dialect_for`: no other module of
the store asks which database it is on. SQLite (``sqlite.py``): a file, one writer at a time
across processes (a lock file), a connection kept per process and checked against the file
at the path, checkpoints of its write-ahead log. PostgreSQL (``postgres.py``): a server,
pooled connections, row locks and an advisory lock for migrations, nothing to checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa

from at_voice_kit.service.store.batch_write import PreparedBatch, PreparedEvent
from at_voice_kit.service.store.database import Faults, check_database_url, new_pool_after_fork
from at_voice_kit.service.store.postgres import PostgresDialect, postgres_engine
from at_voice_kit.service.store.records import AppendResult, CallEvent
from at_voice_kit.service.store.sqlite import SQLiteDialect, sqlite_engine


class Dialect(Faults, Protocol):
    """One database's way of writing a batch, locking, checkpointing and failing."""

    def prepare(self, event: CallEvent, received_at: datetime) -> PreparedEvent:
        """``event`` made ready for :meth:`write`, without the database (on the loop)."""

    def write(self, connection: sa.Connection, batch: PreparedBatch) -> list[AppendResult]:
        """Write ``batch`` inside the caller's transaction; one result per event."""

    def writer_lock(self) -> AbstractContextManager[None]:
        """Held around each write transaction: one writer at a time where the database
        needs it (SQLite), nothing where it orders its writers itself."""

    def write_transaction(self) -> AbstractContextManager[sa.Connection]:
        """A transaction to write in, committed when the block ends; what it committed is
        in the database the store is configured with, or the block raises."""

    def committed(self, events: int) -> None:
        """Note that a transaction holding ``events`` events committed (under the lock)."""

    def housekeeping(self) -> None:
        """Work a commit left due (a checkpoint), run outside the lock; never raises."""

    def write_problem(self) -> str | None:
        """Why a write could not commit now, as far as shows without writing, or ``None``."""

    def before_migrating(self, *, create_missing: bool) -> None:
        """Make the database ready to migrate (SQLite: create the file at the first start)."""

    def lock_schema(self, connection: sa.Connection) -> None:
        """Serialise migrations across processes and instances, inside ``connection``'s
        transaction."""


DIALECTS: dict[str, Callable[[sa.Engine], Dialect]] = {
    "sqlite": SQLiteDialect,
    "postgresql": PostgresDialect,
}
"""The strategy of each database the store runs on, by SQLAlchemy's name for it."""


def dialect_for(engine: sa.Engine) -> Dialect:
    """The strategy of ``engine``'s database (built once, by the store)."""
    return DIALECTS[engine.dialect.name](engine)


def create_database_engine(
    url: str | sa.URL, *, pool_size: int = 5, statement_timeout_ms: int = 5000
) -> sa.Engine:
    """The engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``), with the
    settings that make its commits durable and its connections bounded."""
    parsed = check_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sqlite_engine(parsed)
    else:
        engine = postgres_engine(parsed, pool_size, statement_timeout_ms)
    new_pool_after_fork(engine)
    return engine
