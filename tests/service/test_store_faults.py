"""The event store when its SQLite file fails under it (deleted, put back, read-only), and the
memory behind its readiness: on real files, the read-only case on a tmpfs the test mounts.

Under gunicorn the same faults are run end to end by ``tests/e2e/test_storage_faults.py``.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg.errors
import pytest
import sqlalchemy as sa

from at_voice_kit.service.store import EventStore, create_database_engine
from at_voice_kit.service.store.checkpoint import CHECKPOINT_EVERY_EVENTS
from at_voice_kit.service.store.failures import StoreUnavailable, is_store_failure
from at_voice_kit.service.store.postgres import PostgresFaults
from at_voice_kit.service.store.sqlite import SQLiteFaults, WriterLock
from at_voice_kit.service.store.write_health import TRIAL_WRITE_INTERVAL_SECONDS, WriteHealth
from tests.filesystem_faults import read_only_for_new_opens, small_tmpfs
from tests.service.test_wal_checkpoint import ringing


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "voice-events.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database: Path, clock: Clock) -> Iterator[EventStore]:
    engine = create_database_engine(f"sqlite:///{database}")
    store = EventStore(engine, clock=clock)
    store.migrate()
    yield store
    engine.dispose()


def stored_sessions(database: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return {row[0] for row in connection.execute("SELECT session_id FROM call_events")}


def backup(database: Path, copy: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(database)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)


def delete_database(database: Path) -> None:
    """``rm voice-events.db*``: the database, its log, its index and the writer lock."""
    for path in database.parent.glob(f"{database.name}*"):
        path.unlink()


def put_back(copy: Path, database: Path) -> None:
    """What an operator restoring a backup does: copied beside it, then renamed in."""
    restoring = database.with_name("restoring.db")
    restoring.write_bytes(copy.read_bytes())
    restoring.rename(database)


def lose_and_put_back(store: EventStore, database: Path, tmp_path: Path) -> None:
    """Event 1 stored and backed up, the files deleted, event 2 refused, the backup put back."""
    assert store.append(ringing(1)).stored
    backup(database, tmp_path / "backup.db")
    delete_database(database)
    with pytest.raises(StoreUnavailable):
        store.append(ringing(2))
    put_back(tmp_path / "backup.db", database)


def test_after_the_database_file_is_deleted_appends_and_reads_are_refused_creating_nothing(
    store: EventStore, database: Path
) -> None:
    assert store.append(ringing(1)).stored
    delete_database(database)
    gone = re.escape(f"{database} is gone")
    with pytest.raises(StoreUnavailable, match=gone):
        store.append(ringing(2))
    with pytest.raises(StoreUnavailable, match=gone):
        store.append_many([ringing(3)])
    with pytest.raises(StoreUnavailable, match=gone):  # no history read from the lost file
        store.list_calls(limit=10)
    readiness = store.readiness()
    assert not readiness.ready and f"{database} is gone" in readiness.reason
    # An empty database in its place would hide the loss and split the history.
    assert not database.exists()


def test_a_database_put_back_at_the_path_takes_the_next_appends(
    store: EventStore, database: Path, tmp_path: Path
) -> None:
    lose_and_put_back(store, database, tmp_path)
    assert store.append(ringing(3)).stored
    assert stored_sessions(database) == {ringing(1).session_id, ringing(3).session_id}


def test_the_log_of_a_database_put_back_is_checkpointed_not_the_deleted_one(
    store: EventStore, database: Path, tmp_path: Path
) -> None:
    for call in range(CHECKPOINT_EVERY_EVENTS):  # a checkpoint ran: its connection is open
        assert store.append(ringing(call)).stored
    backup(database, tmp_path / "backup.db")
    delete_database(database)
    put_back(tmp_path / "backup.db", database)
    size_before = database.stat().st_size
    for call in range(CHECKPOINT_EVERY_EVENTS, 2 * CHECKPOINT_EVERY_EVENTS):
        assert store.append(ringing(call)).stored
    assert database.stat().st_size > size_before, "the log was not copied into this file"


def left_after_a_crash(database: Path, tmp_path: Path) -> set[str]:
    """The sessions in the files at the database's path, as a ``kill -9`` leaves them (the
    database and its log: each commit was flushed to them), read from copies while the
    store still holds its connections."""
    crash = tmp_path / "after-a-crash"
    crash.mkdir()
    for suffix in ("", "-wal"):
        if Path(f"{database}{suffix}").exists():
            shutil.copyfile(f"{database}{suffix}", crash / f"{database.name}{suffix}")
    return stored_sessions(crash / database.name)


def test_deleting_the_write_ahead_log_alone_loses_nothing_acknowledged(
    store: EventStore, database: Path, tmp_path: Path
) -> None:
    """``rm voice-events.db-wal``: the store's connections hold the deleted log open and
    went on committing into it, acknowledging events that a crash then lost (under
    gunicorn, 100 of 100 after a ``kill -9``). The store now lets go of the deleted log
    (SQLite copies what it held into the database as the last connection closes) and
    commits into a log at the path."""
    before = CHECKPOINT_EVERY_EVENTS + 5  # a checkpoint ran (its connection is open) and
    acknowledged = [ringing(call) for call in range(before)]  # the last 5 are in the log only
    for event in acknowledged:
        assert store.append(event).stored
    Path(f"{database}-wal").unlink()
    after = [ringing(call) for call in range(1000, 1010)]
    for event in after:
        with contextlib.suppress(StoreUnavailable):
            if store.append(event).stored:
                acknowledged.append(event)
    assert len(acknowledged) > before, "writes did not resume by themselves"
    assert left_after_a_crash(database, tmp_path) >= {e.session_id for e in acknowledged}


def test_a_deleted_writer_lock_file_is_opened_again_so_writers_still_exclude_each_other(
    store: EventStore, database: Path
) -> None:
    first, second = WriterLock(store.engine), WriterLock(store.engine)  # as two processes
    with first.held():
        pass
    Path(f"{database}{WriterLock.SUFFIX}").unlink()
    entered = threading.Event()

    def take_the_first() -> None:
        with first.held():
            entered.set()

    with second.held():  # opens the lock file now at the path
        taker = threading.Thread(target=take_the_first)
        taker.start()
        # It must wait for the second; with the deleted file it would enter at once.
        assert not entered.wait(0.5)
    taker.join(timeout=10)
    assert entered.is_set()


@contextlib.contextmanager
def another_worker_holding(database: Path) -> Iterator[None]:
    """A process with the database open (as another worker would): its log and index stay."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('SELECT count(*) FROM call_events').fetchall(); "
            "print('open', flush=True); sys.stdin.read()",
            str(database),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        yield
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_store_that_starts_while_the_file_is_read_only_recovers_once_it_is_writable(
    tmp_path: Path,
) -> None:
    """A worker (re)started while the file is read-only: SQLite would open its connections
    read-only, and they would stay so, and so would every connection the process opens to
    the file while one of them is open. Once the file is writable, the store writes."""
    with small_tmpfs(tmp_path / "disk", 16) as disk:
        database = disk / "voice-events.db"
        url = f"sqlite:///{database}"
        first = EventStore(create_database_engine(url))
        first.migrate()
        assert first.append(ringing(1)).stored
        first.engine.dispose()  # this process now holds no connection to the file
        started_meanwhile = EventStore(create_database_engine(url))
        try:
            with another_worker_holding(database):
                with read_only_for_new_opens(disk):
                    with pytest.raises((StoreUnavailable, sa.exc.OperationalError)):
                        started_meanwhile.append(ringing(2))
                    readiness = started_meanwhile.readiness()
                    assert not readiness.ready and "read-only" in readiness.reason
                assert started_meanwhile.append(ringing(3)).stored
                assert started_meanwhile.append(ringing(4)).stored
        finally:
            started_meanwhile.engine.dispose()
        assert stored_sessions(database) == {ringing(call).session_id for call in (1, 3, 4)}


def data_version(database: Path) -> Iterator[int]:
    """Yields SQLite's data version seen by one connection: it changes when another commits."""
    with contextlib.closing(sqlite3.connect(database)) as observer:
        while True:
            yield int(observer.execute("PRAGMA data_version").fetchone()[0])


def test_readiness_probes_write_nothing_while_writes_commit(
    store: EventStore, database: Path, clock: Clock
) -> None:
    assert store.append(ringing(1)).stored
    versions = data_version(database)
    before = next(versions)
    for _ in range(5):
        clock.now += TRIAL_WRITE_INTERVAL_SECONDS
        assert store.readiness().ready
    assert next(versions) == before, "a probe wrote"
    assert store.append(ringing(2)).stored
    assert next(versions) != before  # the observer does see commits


def test_after_a_failed_write_readiness_waits_for_a_write_that_commits(
    store: EventStore, database: Path, tmp_path: Path, clock: Clock
) -> None:
    lose_and_put_back(store, database, tmp_path)
    versions = data_version(database)
    before = next(versions)
    # The file is back, but no write has committed since the failure: not ready yet, and
    # no trial write before the interval is over.
    readiness = store.readiness()
    assert not readiness.ready and "the last write failed" in readiness.reason
    assert next(versions) == before
    clock.now += TRIAL_WRITE_INTERVAL_SECONDS
    assert store.readiness().ready  # one trial write committed
    assert next(versions) != before
    assert stored_sessions(database) == {ringing(1).session_id}  # it left nothing behind


def database_error(error_class: type[sa.exc.DBAPIError], orig: Exception) -> Exception:
    return error_class("INSERT ...", {}, orig)


def sqlite_error(message: str, code: int) -> sqlite3.Error:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


def test_write_health_remembers_failures_of_the_store_and_ignores_contention() -> None:
    clock = Clock()
    sqlite_health, postgres_health = (
        WriteHealth(SQLiteFaults(), clock),
        WriteHealth(PostgresFaults(), clock),
    )
    busy = database_error(sa.exc.OperationalError, sqlite_error("database is locked", 5))
    timeout = database_error(sa.exc.OperationalError, psycopg.errors.QueryCanceled())
    one_bad_event = database_error(sa.exc.IntegrityError, sqlite_error("constraint", 19))
    for error in (busy, one_bad_event, KeyboardInterrupt()):
        sqlite_health.failed(error)
        assert sqlite_health.failure() is None, error
    postgres_health.failed(timeout)
    assert postgres_health.failure() is None
    full = database_error(sa.exc.OperationalError, sqlite_error("database or disk is full", 13))
    sqlite_health.failed(full)
    assert sqlite_health.failure() == "database or disk is full"
    assert not sqlite_health.trial_due()
    clock.now += TRIAL_WRITE_INTERVAL_SECONDS
    assert sqlite_health.trial_due()
    sqlite_health.succeeded()
    assert sqlite_health.failure() is None and not sqlite_health.trial_due()


def test_errors_that_spoil_a_connection_are_told_apart() -> None:
    read_only_session = database_error(
        sa.exc.InternalError, psycopg.errors.ReadOnlySqlTransaction()
    )
    read_only_file = database_error(
        sa.exc.OperationalError, sqlite_error("attempt to write a readonly database", 8)
    )
    full = database_error(sa.exc.OperationalError, sqlite_error("database or disk is full", 13))
    postgres, sqlite = PostgresFaults(), SQLiteFaults()
    assert postgres.spoils_connection(read_only_session)
    assert is_store_failure(read_only_session, postgres)
    assert sqlite.spoils_connection(read_only_file) and is_store_failure(read_only_file, sqlite)
    assert not sqlite.spoils_connection(full) and is_store_failure(full, sqlite)
    assert is_store_failure(StoreUnavailable("gone"), sqlite)
    assert is_store_failure(StoreUnavailable("gone"), postgres)
