"""The lean synchronous path, for ``bench_service --previous``: the release before the event-loop
model (gunicorn's threaded workers, a thread per request, group commit by threads) with its
store cut to one statement per batch on the driver and the call outcomes folded into SQL.

It runs only in an environment where that release is installed (``--previous PYTHON``): it
replaces its batch writers. Each batch is one multi-row ``INSERT ... ON CONFLICT (dedup_key)
DO NOTHING RETURNING dedup_key`` run on the driver's cursor; a trigger on ``call_events``
folds each inserted event into its call's row in the same statement (SQLite: a trigger of
SQL; PostgreSQL: one in PL/pgSQL). The fold is simpler than the service's merge (one
precedence per call instead of a rank per attribute, no content digest to break ties): it
does less work than the real one, so its throughput is a bound the lean path cannot beat,
not a figure it would reach. Its own database (the bench gives it one): the trigger changes
what every writer of that database does.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Json

from at_voice_kit.service.app import create_app as create_service  # the previous release's
from at_voice_kit.service.store import create_database_engine
from at_voice_kit.service.store.batch_write import BatchWriter, PreparedBatch
from at_voice_kit.service.store.schema import call_events
from at_voice_kit.service.store.sqlite_batch_write import SQLiteBatchWriter

COLUMNS = [column.name for column in call_events.columns if column.name != "id"]
ATTRIBUTES = (
    "direction",
    "caller_number",
    "destination_number",
    "hangup_cause",
    "call_session_state",
    "call_start_time",
    "duration_seconds",
    "currency_code",
    "amount",
)
PRECEDENCE = (
    "CASE WHEN NEW.source = 'callback' AND NOT NEW.is_active THEN 3 "
    "WHEN NEW.source = 'event' AND NEW.kind IN ('SessionEnded', 'SessionFailed', 'SessionBusy',"
    " 'SessionNoAnswer', 'SessionRejected', 'SessionTimeout') THEN 2 "
    "WHEN NEW.source = 'api' THEN 0 ELSE 1 END"
)
STATUS = (
    "CASE {p} WHEN 3 THEN coalesce(NEW.status, 'Success') WHEN 2 THEN CASE WHEN "
    "coalesce(NEW.duration_seconds, 0) > 0 THEN 'Success' ELSE 'NotAnswered' END "
    "WHEN 1 THEN 'InProgress' ELSE 'Requested' END"
)


def _fold(precedence_sql: str, stored: str, new: str) -> str:
    """The upsert that folds ``NEW`` into its call's row (``stored``/``new``: the precedence
    of the row as stored and of the new event, as SQL)."""
    wins = f"{new} >= {stored}"
    attributes = ", ".join(
        f"{name} = CASE WHEN {wins} THEN coalesce(excluded.{name}, calls.{name}) "
        f"ELSE coalesce(calls.{name}, excluded.{name}) END"
        for name in ATTRIBUTES
    )
    return (  # built from the schema's column names: no value enters the SQL
        "INSERT INTO calls (session_id, first_seen_at, last_event_at, event_count, status, "  # noqa: S608
        f"ended, derivation, {', '.join(ATTRIBUTES)}) VALUES (NEW.session_id, NEW.received_at,"
        f" NEW.received_at, 1, {STATUS.format(p=PRECEDENCE)}, {PRECEDENCE} >= 2, "
        f"{precedence_sql}, {', '.join('NEW.' + name for name in ATTRIBUTES)}) "
        "ON CONFLICT (session_id) DO UPDATE SET "
        "last_event_at = greatest_of, event_count = calls.event_count + 1, "
        f"ended = calls.ended OR excluded.ended, status = CASE WHEN {wins} THEN excluded.status "
        f"ELSE calls.status END, derivation = CASE WHEN {wins} THEN excluded.derivation ELSE "
        f"calls.derivation END, {attributes}"
    )


def _install_sqlite_fold(connection: sa.Connection) -> None:
    fold = _fold(
        f"CAST({PRECEDENCE} AS TEXT)",
        "CAST(calls.derivation AS INTEGER)",
        "CAST(excluded.derivation AS INTEGER)",
    ).replace("greatest_of", "max(calls.last_event_at, excluded.last_event_at)")
    connection.exec_driver_sql(
        f"CREATE TRIGGER IF NOT EXISTS lean_fold AFTER INSERT ON call_events BEGIN {fold}; END"
    )


def _install_postgres_fold(connection: sa.Connection) -> None:
    fold = _fold(
        f"to_json({PRECEDENCE})",
        "(calls.derivation::text)::int",
        "(excluded.derivation::text)::int",
    ).replace("greatest_of", "greatest(calls.last_event_at, excluded.last_event_at)")
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727319)")
    connection.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION lean_fold() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {fold}; RETURN NULL; END $$"
    )
    connection.exec_driver_sql(
        "CREATE OR REPLACE TRIGGER lean_fold AFTER INSERT ON call_events "
        "FOR EACH ROW EXECUTE FUNCTION lean_fold()"
    )


def _insert_sql(rows: int, placeholder: str) -> str:
    values = ", ".join("(" + ", ".join([placeholder] * len(COLUMNS)) + ")" for _ in range(rows))
    return (
        f"INSERT INTO call_events ({', '.join(COLUMNS)}) VALUES {values} "  # noqa: S608
        "ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key"
    )


def _write_sqlite(self: Any, connection: sa.Connection, batch: PreparedBatch) -> list[Any]:
    events = batch.distinct()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    parameters = [value for event in events for value in event.driver_values]
    inserted = {row[0] for row in cursor.execute(_insert_sql(len(events), "?"), parameters)}
    return batch.results(inserted)


def _write_postgres(self: Any, connection: sa.Connection, batch: PreparedBatch) -> list[Any]:
    events = batch.distinct()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    parameters = [
        Json(event.row[name]) if name == "fields" else event.row[name]
        for event in events
        for name in COLUMNS
    ]
    cursor.execute(_insert_sql(len(events), "%s"), parameters)  # type: ignore[arg-type]
    return batch.results({row[0] for row in cursor.fetchall()})


def create_app() -> Any:
    """The previous release's service, its writes replaced by the lean path."""
    engine = create_database_engine(os.environ["DATABASE_URL"])
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            _install_sqlite_fold(connection)
        else:
            _install_postgres_fold(connection)
    SQLiteBatchWriter.write = _write_sqlite  # type: ignore[method-assign]
    BatchWriter.write = _write_postgres  # type: ignore[method-assign]
    return create_service(engine=engine)
