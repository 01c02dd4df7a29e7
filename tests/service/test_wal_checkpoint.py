"""SQLite's write-ahead log is checkpointed by each process outside the writer lock.

Observed on a real database file: SQLite's own checkpoint only runs past 8,000 log pages, so
the database file grows only when the store's checkpoint copies the log back into it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from at_voice_kit.service.store import CallEvent, EventStore, create_database_engine
from at_voice_kit.service.store.checkpoint import CHECKPOINT_EVERY_EVENTS
from at_voice_kit.service.webhook_forms import parse_event


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
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM call_events").fetchone()[0])


def test_the_log_is_copied_into_the_database_after_every_so_many_events(
    store: EventStore, database: Path
) -> None:
    size_before = database.stat().st_size
    for call in range(CHECKPOINT_EVERY_EVENTS - 1):
        assert store.append(ringing(call)).stored  # one commit each
    assert database.stat().st_size == size_before, "checkpointed too early"
    assert store.append(ringing(CHECKPOINT_EVERY_EVENTS)).stored
    assert database.stat().st_size > size_before, "the log was not checkpointed"
    assert stored_events(database) == CHECKPOINT_EVERY_EVENTS


def test_append_many_counts_the_events_of_its_batches(store: EventStore, database: Path) -> None:
    size_before = database.stat().st_size
    batch = 8
    for start in range(0, CHECKPOINT_EVERY_EVENTS - batch, batch):
        events = [ringing(call) for call in range(start, start + batch)]
        assert all(result.stored for result in store.append_many(events))
    assert database.stat().st_size == size_before, "checkpointed too early"
    last = [
        ringing(call) for call in range(CHECKPOINT_EVERY_EVENTS - batch, CHECKPOINT_EVERY_EVENTS)
    ]
    assert all(result.stored for result in store.append_many(last))
    assert database.stat().st_size > size_before, "the log was not checkpointed"


def test_a_reader_holding_a_snapshot_delays_the_checkpoint_but_no_append(
    store: EventStore, database: Path
) -> None:
    first = CHECKPOINT_EVERY_EVENTS  # their commits end with a checkpoint: the log is copied
    for call in range(first):
        assert store.append(ringing(call)).stored
    size_before = database.stat().st_size
    more = 2 * CHECKPOINT_EVERY_EVENTS
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM call_events").fetchone() == (first,)
        for call in range(first, first + more):
            assert store.append(ringing(call)).stored
        # The reader still sees its snapshot, so nothing after it was copied back (a PASSIVE
        # checkpoint never waits for it); everyone else sees every event.
        assert reader.execute("SELECT count(*) FROM call_events").fetchone() == (first,)
        assert database.stat().st_size == size_before
        assert stored_events(database) == first + more
    # Once the reader is gone, the next checkpoint copies everything back.
    for call in range(first + more, first + more + CHECKPOINT_EVERY_EVENTS):
        assert store.append(ringing(call)).stored
    assert database.stat().st_size > size_before
    assert stored_events(database) == first + more + CHECKPOINT_EVERY_EVENTS


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
    with caplog.at_level(logging.WARNING, logger="at_voice_kit.service.store"):
        for call in range(1, CHECKPOINT_EVERY_EVENTS):
            assert store.append(ringing(call)).stored
    assert stored_events(database) == CHECKPOINT_EVERY_EVENTS
    assert "WAL checkpoint failed" in caplog.text and "disk I/O error" in caplog.text
