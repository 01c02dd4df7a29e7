"""Tables of the event store, and the versioned migrations that create and evolve them.

``call_events`` is the append-only log: every callback and event exactly as received (all
fields as JSON) plus the typed columns queries need. ``calls`` holds one row per session with
the outcome derived from its events, for listing and filtering. ``schema_version`` records
which migrations have run; :func:`migrate` applies the missing ones under a lock, so several
workers or instances starting at once migrate exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

metadata = sa.MetaData()

SESSION_ID_LENGTH = 128
NUMBER_LENGTH = 64
WORD_LENGTH = 64

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

call_events = sa.Table(
    "call_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("session_id", sa.String(SESSION_ID_LENGTH), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(WORD_LENGTH), nullable=False),
    sa.Column("dedup_key", sa.String(64), nullable=False, unique=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("direction", sa.String(16)),
    sa.Column("caller_number", sa.String(NUMBER_LENGTH)),
    sa.Column("destination_number", sa.String(NUMBER_LENGTH)),
    sa.Column("is_active", sa.Boolean),
    sa.Column("hangup_cause", sa.String(WORD_LENGTH)),
    sa.Column("call_session_state", sa.String(WORD_LENGTH)),
    sa.Column("status", sa.String(WORD_LENGTH)),
    sa.Column("call_start_time", sa.DateTime),
    sa.Column("duration_seconds", sa.Integer),
    sa.Column("currency_code", sa.String(8)),
    sa.Column("amount", sa.String(32)),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Index("ix_call_events_session", "session_id", "id"),
)

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("session_id", sa.String(SESSION_ID_LENGTH), primary_key=True),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event_count", sa.Integer, nullable=False),
    sa.Column("direction", sa.String(16)),
    sa.Column("caller_number", sa.String(NUMBER_LENGTH)),
    sa.Column("destination_number", sa.String(NUMBER_LENGTH)),
    sa.Column("status", sa.String(WORD_LENGTH), nullable=False),
    sa.Column("ended", sa.Boolean, nullable=False),
    sa.Column("hangup_cause", sa.String(WORD_LENGTH)),
    sa.Column("call_session_state", sa.String(WORD_LENGTH)),
    sa.Column("call_start_time", sa.DateTime),
    sa.Column("duration_seconds", sa.Integer),
    sa.Column("currency_code", sa.String(8)),
    sa.Column("amount", sa.String(32)),
    # The ranks behind the derived columns (see
    # at_voice_kit.service.store.outcome.OutcomeDerivation), so an event merges into the outcome
    # without reading the call's other events. NULL on rows written before schema version 2: the
    # next event of such a call rebuilds it.
    sa.Column("derivation", sa.JSON),
    sa.Index("ix_calls_newest", "first_seen_at", "session_id"),
    sa.Index("ix_calls_caller", "caller_number"),
    sa.Index("ix_calls_destination", "destination_number"),
    sa.Index("ix_calls_status", "status"),
)


def _v1_initial(connection: sa.Connection) -> None:
    # The tables as they are now: later migrations check before adding what they add.
    metadata.create_all(connection, tables=[call_events, calls])


def _v2_incremental_outcome(connection: sa.Connection) -> None:
    existing = {column["name"] for column in sa.inspect(connection).get_columns("calls")}
    if "derivation" not in existing:
        column_type = sa.JSON().compile(dialect=connection.dialect)
        connection.execute(sa.text(f"ALTER TABLE calls ADD COLUMN derivation {column_type}"))


MIGRATIONS: tuple[Callable[[sa.Connection], None], ...] = (_v1_initial, _v2_incremental_outcome)
"""Migration ``n`` (1-based) brings the schema from version ``n - 1`` to ``n``. Append only."""

LATEST_VERSION = len(MIGRATIONS)


def migrate(engine: sa.Engine, lock: Callable[[sa.Connection], None]) -> int:
    """Apply every missing migration, under ``lock`` (taken in the migration's transaction:
    several processes and instances starting at once migrate once); return the schema
    version now in force.

    Refuses to run against a database newer than this code (a rollback to an old release
    must not write into a schema it does not understand).
    """
    with engine.begin() as connection:
        lock(connection)
        schema_version.create(connection, checkfirst=True)
        current = connection.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
        current = int(current or 0)
        if current > LATEST_VERSION:
            raise RuntimeError(
                f"database schema version {current} is newer than this release "
                f"supports ({LATEST_VERSION}): upgrade at-voice-kit"
            )
        for version in range(current + 1, LATEST_VERSION + 1):
            MIGRATIONS[version - 1](connection)
            connection.execute(
                schema_version.insert().values(version=version, applied_at=datetime.now(UTC))
            )
    return LATEST_VERSION


TRIAL_VERSION = -1
"""The ``schema_version`` row a trial write inserts and deletes: no migration has it."""


def trial_write(connection: sa.Connection) -> None:
    """Write something and leave nothing, inside the caller's transaction: a row of
    ``schema_version`` inserted, then deleted. Its commit writes to disk like any other
    (a commit that changed nothing would not: SQLite skips rewriting identical rows)."""
    connection.execute(
        schema_version.insert().values(version=TRIAL_VERSION, applied_at=datetime.now(UTC))
    )
    connection.execute(schema_version.delete().where(schema_version.c.version == TRIAL_VERSION))
