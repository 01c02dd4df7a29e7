"""The batch writer for SQLite: three statements per batch, whatever its size.

SQLite lets one writer in at a time (``BEGIN IMMEDIATE``, queued by the writer lock), so
inside the transaction nothing else can change the tables between a read and a write: the
existing dedup keys are looked up, the new events inserted, and their calls' rows folded in
by one upsert (``call_fold.py``, compiled once). The statements are plain SQL on the
transaction's own ``sqlite3`` cursor (:class:`DriverStatements`: Core's per-statement and
per-row work cost more than SQLite's own on this, the hot path of every webhook), with
values through SQLAlchemy's own type processors for SQLite, so every row is stored exactly
as Core stores it and read back by the same queries; errors are still raised as
SQLAlchemy's (``OperationalError`` for a locked or failing database, as everywhere else).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from at_voice_kit.service.store.batch_write import PreparedBatch, PreparedEvent
from at_voice_kit.service.store.call_fold import calls_upsert, delta_rows
from at_voice_kit.service.store.records import AppendResult, CallEvent
from at_voice_kit.service.store.schema import call_events, calls

Processor = Callable[[Any], Any] | None
Bind = tuple[str, Processor]
"""A column's name and the converter of its values to the driver's, if it needs one."""


# The SQL below is built from the schema's own column names and "?" placeholders: no value
# ever enters it (hence the noqa: S608 marks).


def _placeholders(count: int) -> str:
    return ", ".join(["?"] * count)


class SQLiteBatchWriter:
    """Appends batches of events to SQLite; the SQL and converters are built once."""

    def __init__(self, dialect: sa.Dialect) -> None:
        event_columns = [column for column in call_events.columns if column.name != "id"]
        self._event_binds = _binds(event_columns, dialect)
        self._insert_events = (
            f"INSERT INTO call_events ({', '.join(c.name for c in event_columns)}) "  # noqa: S608
            f"VALUES ({_placeholders(len(event_columns))})"
        )
        upsert = calls_upsert(sqlite.insert).compile(dialect=dialect)
        self._upsert_calls = upsert.string
        self._call_binds = _binds([calls.c[name] for name in upsert.positiontup or ()], dialect)

    def prepare(self, event: CallEvent, received_at: datetime) -> PreparedEvent:
        """``event`` made ready for :meth:`write`, its row already in the driver's values."""
        return PreparedEvent.of(event, received_at, self._event_values)

    def write(self, connection: sa.Connection, batch: PreparedBatch) -> list[AppendResult]:
        """Insert the batch's events and upsert their calls, inside the caller's transaction."""
        statements = DriverStatements(connection)
        keys = list(batch.first_of_key)
        found = statements.query(
            "SELECT dedup_key FROM call_events WHERE dedup_key IN "  # noqa: S608
            f"({_placeholders(len(keys))})",
            tuple(keys),
        )
        existing = {row[0] for row in found}
        new_events = [event for event in batch.distinct() if event.key not in existing]
        if new_events:
            statements.execute_many(
                self._insert_events, [event.driver_values for event in new_events]
            )
        results = batch.results({event.key for event in new_events})
        by_session = batch.stored_by_session(results)
        if by_session:
            statements.execute_many(
                self._upsert_calls, [self._call_values(row) for row in delta_rows(by_session)]
            )
        return results

    def _call_values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return _driver_values(row, self._call_binds)

    def _event_values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return _driver_values(row, self._event_binds)


def _driver_values(row: Mapping[str, Any], binds: Sequence[Bind]) -> tuple[Any, ...]:
    """``row``'s values in the statement's order, each through its column's converter.

    One comprehension over pairs made once: this runs for every row of every batch.
    """
    return tuple([row[name] if convert is None else convert(row[name]) for name, convert in binds])


class DriverStatements:
    """Plain SQL on the ``sqlite3`` connection under an SQLAlchemy transaction.

    Same connection, same transaction (SQLAlchemy began it and will commit it); only the
    per-statement bookkeeping of ``exec_driver_sql`` (result objects, events) is skipped.
    A driver error is raised as the SQLAlchemy error ``exec_driver_sql`` would raise, with
    the parameters hidden (they are callers' phone numbers).
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._dialect = connection.dialect
        driver_connection = cast(sqlite3.Connection, connection.connection.driver_connection)
        self._cursor = driver_connection.cursor()

    def query(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """The rows ``sql`` selects."""
        try:
            return self._cursor.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise self._wrapped(sql, parameters, exc) from exc

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` once per row."""
        try:
            self._cursor.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._wrapped(sql, rows, exc) from exc

    def _wrapped(self, sql: str, parameters: Any, exc: sqlite3.Error) -> BaseException:
        return sa.exc.DBAPIError.instance(
            sql, parameters, exc, sqlite3.Error, hide_parameters=True, dialect=self._dialect
        )


def _binds(columns: Sequence[sa.Column[Any]], dialect: sa.Dialect) -> list[Bind]:
    """Each column's name and SQLAlchemy's converter of its Python values to SQLite's (or
    ``None``: the value goes to the driver as it is)."""
    return [
        (column.name, column.type.dialect_impl(dialect).bind_processor(dialect))
        for column in columns
    ]
