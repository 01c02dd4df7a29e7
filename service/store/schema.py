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

from at_voice_kit.service.store.outcome import ATTRIBUTE_FIELDS, OutcomeDerivation, rank_text

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

RANK_COLUMNS = (
    *(f"rank_{name}" for name in ATTRIBUTE_FIELDS),
    "best_rank",
    "best_kind",
    "best_status",
)
"""The columns of ``calls`` behind its derived outcome (schema version 3)."""
RANK_TYPE = sa.String(WORD_LENGTH).with_variant(sa.String(WORD_LENGTH, collation="C"), "postgresql")
"""Ranks compare byte by byte on both databases (SQLite's default; PostgreSQL's "C")."""

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
    # Schema version 2 kept the ranks behind the derived columns here, as JSON; since version 3
    # they are in the rank columns below, and this column is no longer written.
    sa.Column("derivation", sa.JSON),
    # The ranks behind the derived columns (see at_voice_kit.service.store.outcome and
    # call_fold.py), as text that sorts as the ranks do: the database merges an event into
    # the outcome without reading the call's other events, or its row.
    *(sa.Column(name, RANK_TYPE) for name in RANK_COLUMNS if name != "best_kind"),
    sa.Column("best_kind", sa.String(WORD_LENGTH)),
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


def _v3_ranks_in_columns(connection: sa.Connection) -> None:
    existing = {column["name"] for column in sa.inspect(connection).get_columns("calls")}
    for name in RANK_COLUMNS:
        if name not in existing:
            column_type = calls.c[name].type.compile(dialect=connection.dialect)
            connection.execute(sa.text(f"ALTER TABLE calls ADD COLUMN {name} {column_type}"))
    for session_id in connection.execute(
        sa.select(calls.c.session_id).where(calls.c.best_rank.is_(None))
    ).scalars():
        ranks = _stored_ranks(connection, session_id)
        connection.execute(calls.update().where(calls.c.session_id == session_id).values(ranks))


def _stored_ranks(connection: sa.Connection, session_id: str) -> dict[str, object]:
    """A call's rank columns, from its version 2 ranks, or (older) from all of its events."""
    row = connection.execute(sa.select(calls).where(calls.c.session_id == session_id)).one()
    row_values = row._mapping
    if row_values["derivation"] is not None:
        derivation = OutcomeDerivation.from_state(row_values["derivation"], row_values)
    else:
        derivation = OutcomeDerivation()
        for event in connection.execute(
            sa.select(call_events).where(call_events.c.session_id == session_id)
        ).mappings():
            derivation.merge(event)
    columns: dict[str, object] = {
        f"rank_{name}": rank_text(rank) for name, rank in derivation.ranks.items()
    }
    if derivation.best is not None:
        columns.update(
            best_rank=rank_text(derivation.best),
            best_kind=derivation.best_kind,
            best_status=derivation.best_status,
        )
    return columns


MIGRATIONS: tuple[Callable[[sa.Connection], None], ...] = (
    _v1_initial,
    _v2_incremental_outcome,
    _v3_ranks_in_columns,
)
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
