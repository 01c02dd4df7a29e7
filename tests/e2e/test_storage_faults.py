"""The storage under the service failing: the SQLite file read-only for a while, deleted, or
its disk full; PostgreSQL turned read-only, or out of disk.

Each case runs the production gunicorn on a small filesystem of the test's own (a tmpfs the
test mounts: ``tests/filesystem_faults.py``), sends AT's webhooks before, during and after
the fault, and checks that nothing answered ``OK`` is missing from the database afterwards,
that readiness (``GET /voice/``) answers 503 with ``Retry-After`` and a reason while writes
fail, and that once the fault is removed the same processes (no restart) answer ready again
and store what AT sends, and resends, from then on.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path

import psycopg
import pytest
import requests

from tests.e2e.call_traffic import (
    Call,
    Delivery,
    DeliveryLog,
    assert_stored_exactly_once,
    deliver_concurrently,
    make_call,
    read_store,
)
from tests.e2e.processes import (
    RunningProcess,
    child_pids,
    free_port,
    gunicorn_argv,
    kill_group,
    running,
    service_environment,
    wait_for_log,
    wait_for_readiness,
)
from tests.filesystem_faults import fill, read_only_for_new_opens, small_tmpfs
from tests.postgres_server import throwaway_postgres

pytestmark = pytest.mark.e2e

DATABASE_NAME = "voice-events.db"
CALLS_PER_PHASE = 8


def start_service(
    database_url: str, tmp_path: Path, *, workers: int
) -> AbstractContextManager[RunningProcess]:
    port = free_port()
    return running(
        gunicorn_argv(port),
        env=service_environment(database_url, VOICE_WORKERS=str(workers)),
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "gunicorn.log",
    )


def calls_of(count: int, rng: random.Random) -> list[Call]:
    prefix = f"ATVId_{uuid.uuid4().hex[:12]}_"
    return [make_call(rng, prefix) for _ in range(count)]


class FaultTraffic:
    """AT's webhooks around one fault: calls sent before it, during it and after it, and
    what the service answered. Before and after, each delivery is retried like AT until
    acknowledged; during the fault each is sent once (503 is then the right answer)."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.before, self.during, self.after = (calls_of(CALLS_PER_PHASE, rng) for _ in range(3))
        self.log = DeliveryLog()
        self.workers: list[int] = []

    def send_before(self, service: RunningProcess) -> None:
        """The calls before the fault, all acknowledged; the workers that served them noted."""
        self._deliver_until_acknowledged(self.before, service.url)
        self.workers = child_pids(service.process.pid)

    def send_during(self, service: RunningProcess, *, none_acknowledged: bool) -> None:
        """The calls during the fault, once each: 503 (retry later) or ``OK`` if stored."""
        schedule = [d for call in self.during for d in call.deliveries]
        deliver_concurrently(
            schedule, [service.url], threads=4, retry=lambda _: False, log=self.log
        )
        assert self.log.failed_attempts > 0, "the fault refused no webhook"
        assert self.log.refused == []  # 503, never 500
        if none_acknowledged:
            assert not {d.key for d in schedule} & set(self.log.acked)

    def send_after(self, service: RunningProcess) -> None:
        """Once ready again, what was refused and the calls after: all acknowledged, by
        the same workers (no restart)."""
        wait_for_readiness(service.url, 200)
        self._deliver_until_acknowledged(self.during + self.after, service.url)
        assert child_pids(service.process.pid) == self.workers

    def check_stored(self, database_url: str) -> None:
        """Every acknowledged event is in the database, once; nothing else is."""
        calls = self.before + self.during + self.after
        report = read_store(database_url, [call.session_id for call in calls])
        assert_stored_exactly_once(calls, self.log, report, all_acked=True)

    def _deliver_until_acknowledged(self, calls: list[Call], url: str) -> None:
        # Only what is not acknowledged yet: a live callback sent again would be a second
        # turn of the call.
        def missing() -> list[Delivery]:
            return [d for call in calls for d in call.deliveries if d.key not in self.log.acked]

        deliver_concurrently(missing(), [url], threads=4, retry=lambda _: True, log=self.log)
        assert missing() == [], "the service did not recover"


def assert_not_ready(url: str, reason: str) -> None:
    """Several probes, each on a new connection (so every worker answers some): all 503."""
    for _ in range(4):
        answer = requests.get(f"{url}/voice/", timeout=15, headers={"Connection": "close"})
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "5"
        assert reason in answer.json()["status_reason"], answer.json()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / DATABASE_NAME}"


def test_a_file_read_only_for_a_while_is_not_ready_never_ok_and_recovers_by_itself(
    tmp_path: Path,
) -> None:
    traffic = FaultTraffic(seed=7)
    with small_tmpfs(tmp_path / "disk", 64) as disk:
        with start_service(sqlite_url(disk), tmp_path, workers=1) as service:
            traffic.send_before(service)
            with read_only_for_new_opens(disk):
                # A worker starting now (replacing one that crashed or was recycled) would
                # open its connections while the file is read-only.
                os.kill(traffic.workers[0], signal.SIGKILL)
                wait_for_log(service, "voice service ready", 2)
                traffic.workers = child_pids(service.process.pid)
                assert_not_ready(service.url, "read-only")
                traffic.send_during(service, none_acknowledged=True)
                assert_not_ready(service.url, "read-only")
            traffic.send_after(service)  # writable again: the same worker recovers
        traffic.check_stored(sqlite_url(disk))


def backup(database: Path, copy: Path) -> None:
    """The operator's backup, with SQLite's backup API (safe while the service writes)."""
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)


def test_deleting_the_database_files_is_never_ok_until_a_database_is_put_back(
    tmp_path: Path,
) -> None:
    traffic = FaultTraffic(seed=8)
    with small_tmpfs(tmp_path / "disk", 64) as disk:
        database = disk / DATABASE_NAME
        with start_service(sqlite_url(disk), tmp_path, workers=2) as service:
            traffic.send_before(service)
            backup(database, tmp_path / "backup.db")
            for path in disk.glob(f"{DATABASE_NAME}*"):  # rm voice-events.db*
                path.unlink()
            traffic.send_during(service, none_acknowledged=True)
            assert_not_ready(service.url, str(database))
            assert f"{database} is gone" in service.log()
            # No empty database was made in its place: that would hide the loss.
            assert not database.exists()
            # The operator puts the last backup back (copied beside it, then renamed in).
            restoring = disk / "restoring.db"
            restoring.write_bytes((tmp_path / "backup.db").read_bytes())
            restoring.rename(database)
            traffic.send_after(service)
        traffic.check_stored(sqlite_url(disk))


def test_deleting_the_log_alone_acknowledges_nothing_a_crash_then_loses(tmp_path: Path) -> None:
    """``rm voice-events.db-wal`` while the service runs, then a crash (``kill -9``).

    The connections hold the deleted log open: before, every webhook after the deletion was
    acknowledged into it, and the crash lost them all (100 of 100). One client on one
    kept-alive connection during the fault: one worker writes while the other idles, still
    holding the deleted log, which keeps SQLite from opening the database until it lets go.
    """
    traffic = FaultTraffic(seed=10)
    database = tmp_path / DATABASE_NAME
    with start_service(sqlite_url(tmp_path), tmp_path, workers=2) as service:
        traffic.send_before(service)
        Path(f"{database}-wal").unlink()
        schedule = [d for call in traffic.during for d in call.deliveries]
        deliver_concurrently(
            schedule,
            [service.url],
            threads=1,
            new_connection_each=False,
            retry=lambda _: False,
            log=traffic.log,
        )
        traffic.send_after(service)
        kill_group(service.process)  # no connection closes: nothing is copied on the way out
    traffic.check_stored(sqlite_url(tmp_path))


def test_a_full_disk_is_not_ready_never_ok_and_recovers_once_space_is_freed(
    tmp_path: Path,
) -> None:
    traffic = FaultTraffic(seed=9)
    with small_tmpfs(tmp_path / "disk", 32) as disk:
        with start_service(sqlite_url(disk), tmp_path, workers=2) as service:
            traffic.send_before(service)
            ballast = fill(disk)
            assert_not_ready(service.url, "free")
            # A commit may still fit in the log's own space: what is acknowledged is checked.
            traffic.send_during(service, none_acknowledged=False)
            assert_not_ready(service.url, "free")
            ballast.unlink()
            traffic.send_after(service)
        traffic.check_stored(sqlite_url(disk))


def admin_connection(database_url: str) -> psycopg.Connection[tuple[object, ...]]:
    server = database_url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(server + "/postgres", autocommit=True)


@pytest.mark.postgres
def test_a_read_only_postgresql_is_not_ready_never_ok_and_the_pool_recovers(
    postgres_url: str, tmp_path: Path
) -> None:
    traffic = FaultTraffic(seed=10)
    name = postgres_url.rsplit("/", 1)[1]
    with start_service(postgres_url, tmp_path, workers=1) as service:
        traffic.send_before(service)
        with admin_connection(postgres_url) as admin:
            # New sessions are read-only (as on a standby, or a database an operator froze);
            # the service's sessions are cut, so its pool reconnects during the fault.
            admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')  # type: ignore[call-overload]
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = 'at-voice-kit'",
                (name,),
            )
            traffic.send_during(service, none_acknowledged=True)
            assert_not_ready(service.url, "read-only")
            # Writable again for new sessions; those opened meanwhile stay read-only.
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')  # type: ignore[call-overload]
        traffic.send_after(service)
    traffic.check_stored(postgres_url)


@contextmanager
def postgres_on_a_small_disk() -> Iterator[tuple[str, Path]]:
    """A PostgreSQL server of its own whose database lives on a 48 MiB tmpfs (a tablespace;
    the write-ahead log stays on the server's own disk): its URL and the tmpfs."""
    # Mounted straight on a directory in /tmp: the server's user must reach it.
    mount_point = Path(tempfile.mkdtemp(prefix="avk-pgdisk-"))
    owner = "postgres" if os.geteuid() == 0 else None
    try:
        with (
            small_tmpfs(mount_point, 48, owner=owner) as disk,
            throwaway_postgres() as server,
        ):
            name = "avk_" + uuid.uuid4().hex[:16]
            url = server.url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url + "/postgres", autocommit=True) as admin:
                admin.execute(f"CREATE TABLESPACE avk_small LOCATION '{disk}'")  # type: ignore[call-overload]
                admin.execute(f'CREATE DATABASE "{name}" TABLESPACE avk_small')  # type: ignore[call-overload]
            yield f"{server.url}/{name}", disk
    finally:
        mount_point.rmdir()


@pytest.mark.postgres
def test_a_full_disk_on_postgresql_is_never_ok_and_readiness_follows_the_failures(
    tmp_path: Path,
) -> None:
    traffic = FaultTraffic(seed=11)
    with postgres_on_a_small_disk() as (database_url, disk):
        with start_service(database_url, tmp_path, workers=1) as service:
            traffic.send_before(service)
            ballast = fill(disk)
            traffic.send_during(service, none_acknowledged=False)
            # Nothing the service can see without writing shows it: it remembers the failures.
            assert_not_ready(service.url, "No space left on device")
            ballast.unlink()
            traffic.send_after(service)
        traffic.check_stored(database_url)
