"""SQLite's write-ahead log is checkpointed by each process outside the writer lock.

Observed on a real database file: SQLite's own checkpoint only runs past 8,000 log pages, so
the database file grows only when the store's checkpoint copies the log back into it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.store import CallEvent, EventStore, create_database_engine
from service.store.checkpoint import CHECKPOINT_EVERY_COMMITS
from service.webhook_forms import parse_event


def ringing(call: int) -> CallEvent:
    return parse_event(
        {
            "sessionId": f"ATVId_ckpt{call:028d}",
            "eventType": "SessionRinging",
            "callerNumber": "+254711082369",
            "destinationNumber": "+254711082000",
            "direction": "Outbound",
            "isActive": "1",
        }
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture
def store(database: Path) -> Iterator[EventStore]:
    engine = create_database_engine(f"sqlite:///{database}")
    store = EventStore(engine)
    store.migrate()
    yield store
    engine.dispose()


def stored_events(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM call_events").fetchone()[0])


def test_the_log_is_copied_into_the_database_after_every_so_many_commits(
    store: EventStore, database: Path
) -> None:
    size_before = database.stat().st_size
    for call in range(CHECKPOINT_EVERY_COMMITS - 1):
        assert store.append(ringing(call)).stored  # one commit each
    assert database.stat().st_size == size_before, "checkpointed too early"
    assert store.append(ringing(CHECKPOINT_EVERY_COMMITS)).stored
    assert database.stat().st_size > size_before, "the log was not checkpointed"
    # Checkpointed pages are read back from the database file (the log may be gone).
    assert stored_events(database) == CHECKPOINT_EVERY_COMMITS


def test_a_reader_holding_a_snapshot_blocks_neither_appends_nor_checkpoints(
    store: EventStore, database: Path
) -> None:
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM call_events").fetchone() == (0,)
        appended = 2 * CHECKPOINT_EVERY_COMMITS
        for call in range(appended):
            assert store.append(ringing(call)).stored
        # The reader still sees its snapshot; everyone else sees every event.
        assert reader.execute("SELECT count(*) FROM call_events").fetchone() == (0,)
        assert stored_events(database) == appended
    finally:
        reader.close()


def test_a_failed_checkpoint_is_logged_and_fails_no_append(
    store: EventStore,
    database: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def unavailable() -> None:
        raise sa.exc.OperationalError(
            "PRAGMA wal_checkpoint(PASSIVE)", None, sqlite3.OperationalError("disk I/O error")
        )

    assert store.append(ringing(0)).stored  # the store's own write connection is open
    # Every new connection now fails, so the checkpoint's does.
    monkeypatch.setattr(store.engine, "raw_connection", unavailable)
    with caplog.at_level(logging.WARNING, logger="service.store"):
        for call in range(1, CHECKPOINT_EVERY_COMMITS):
            assert store.append(ringing(call)).stored
    assert stored_events(database) == CHECKPOINT_EVERY_COMMITS
    assert "WAL checkpoint failed" in caplog.text and "disk I/O error" in caplog.text
