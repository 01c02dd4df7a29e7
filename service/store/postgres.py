"""The PostgreSQL strategy of the event store: a server, pooled connections, row locks.

The engine: a bounded connection pool, pre-ping (a restarted database is not an error), and
a statement timeout so a stuck query cannot pin a worker. Writers of every process and
instance run at once; the server orders them by row locks, taken in session order. Migrations
take an advisory lock. Nothing is checkpointed by the store. Faults are read from SQLSTATEs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, Engine

from at_voice_kit.service.store.batch_write import PreparedBatch, PreparedEvent
from at_voice_kit.service.store.call_fold import calls_upsert, delta_rows
from at_voice_kit.service.store.database import read_connection, replace_spoiled_connections
from at_voice_kit.service.store.failures import driver_error, failure_reason
from at_voice_kit.service.store.records import AppendResult, CallEvent
from at_voice_kit.service.store.schema import call_events

CONNECT_TIMEOUT_SECONDS = 5
MIGRATION_LOCK_KEY = 727318

POSTGRES_SPOILED_SESSION_STATES = frozenset({"25006"})
"""read_only_sql_transaction: a session started while the database was read-only (a standby,
``default_transaction_read_only``) stays read-only after the database is writable again."""

POSTGRES_CONTENTION_STATES = frozenset(
    {
        "57014",  # query_canceled: the statement timeout, behind another transaction's lock
        "55P03",  # lock_not_available
        "40P01",  # deadlock_detected
        "40001",  # serialization_failure
    }
)


class PostgresFaults:
    """PostgreSQL's errors, read by their SQLSTATE."""

    @staticmethod
    def _state(error: BaseException) -> str | None:
        state = getattr(driver_error(error), "sqlstate", None)
        return state if isinstance(state, str) else None

    def spoils_connection(self, error: BaseException) -> bool:
        """A session begun read-only: not used again."""
        return self._state(error) in POSTGRES_SPOILED_SESSION_STATES

    def is_contention(self, error: BaseException) -> bool:
        """A lock, a statement timeout, a deadlock, a pool with no connection free in time."""
        return (
            isinstance(error, sa.exc.TimeoutError)
            or self._state(error) in POSTGRES_CONTENTION_STATES
        )


def postgres_engine(url: URL, pool_size: int, statement_timeout_ms: int) -> Engine:
    """The engine of a PostgreSQL database (see the module's docstring)."""
    engine = sa.create_engine(
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
    replace_spoiled_connections(engine, PostgresFaults())
    return engine


class PostgresBatchWriter:
    """Appends batches of events to PostgreSQL, in two statements whatever the batch's size:
    one multi-row insert of the events (a redelivery is skipped by the unique ``dedup_key``,
    race-free across instances), and one upsert folding them into their calls' rows
    (``call_fold.py``), in session order, so concurrent writers on several instances take the
    rows' locks in one order and cannot deadlock."""

    def __init__(self) -> None:
        self._insert_events = (
            postgresql.insert(call_events)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(call_events.c.dedup_key)
        )
        self._upsert_calls = calls_upsert(postgresql.insert)

    def write(self, connection: sa.Connection, batch: PreparedBatch) -> list[AppendResult]:
        """Insert the batch's events and fold them into their calls, inside the caller's
        transaction."""
        rows = [event.row for event in batch.distinct()]
        inserted = set(connection.execute(self._insert_events, rows).scalars())
        results = batch.results(inserted)
        by_session = batch.stored_by_session(results)
        if by_session:
            connection.execute(self._upsert_calls, delta_rows(by_session))
        return results


class PostgresDialect(PostgresFaults):
    """The event store's strategy on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = PostgresBatchWriter()

    def prepare(self, event: CallEvent, received_at: datetime) -> PreparedEvent:
        """The event with its row; the driver values are SQLAlchemy's to make."""
        return PreparedEvent.of(event, received_at)

    def write(self, connection: sa.Connection, batch: PreparedBatch) -> list[AppendResult]:
        """Two statements through SQLAlchemy Core (:class:`PostgresBatchWriter`)."""
        return self._writer.write(connection, batch)

    def writer_lock(self) -> AbstractContextManager[None]:
        """Nothing: the server's row locks order the writers."""
        return nullcontext()

    @contextmanager
    def write_transaction(self) -> Iterator[sa.Connection]:
        """A transaction on a pooled connection, whose pre-ping replaces connections a
        database restart broke (and ``database.py`` those a read-only session spoiled)."""
        with self._engine.begin() as connection:
            yield connection

    def committed(self, events: int) -> None:
        """Nothing to count."""

    def housekeeping(self) -> None:
        """Nothing to do: the server checkpoints its own log."""

    def write_problem(self) -> str | None:
        """The server unreachable, or read-only (a standby, read-only transactions)."""
        try:
            with read_connection(self._engine) as connection:
                if _is_read_only(connection):
                    # This session began read-only and would stay so: not pooled again.
                    connection.invalidate()
                    return "the database is read-only (a standby, or read-only transactions)"
        except sa.exc.SQLAlchemyError as exc:
            return f"database unreachable: {failure_reason(exc)}"
        return None

    def before_migrating(self, *, create_missing: bool) -> None:
        """Nothing: the server holds the database."""

    def lock_schema(self, connection: sa.Connection) -> None:
        """A transaction-scoped advisory lock: one migration at a time across instances."""
        connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))


def _is_read_only(connection: sa.Connection) -> bool:
    return bool(
        connection.execute(
            sa.text("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")
        ).scalar()
    )
