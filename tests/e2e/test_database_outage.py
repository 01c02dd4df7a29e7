"""The service and its PostgreSQL database failing: readiness, refusals, recovery, timeouts.

While the database is down, readiness (``GET /voice/``) answers 503 and webhooks get 503
(AT retries them), never ``OK``; when it is back, the same service processes recover by
themselves (pooled connections are checked before use). A statement stuck behind a lock is
cut off by the statement timeout and answered 503, and the pool stays within its bounds.
"""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.e2e.call_traffic import (
    Delivery,
    DeliveryLog,
    deliver_concurrently,
    make_call,
    read_store,
)
from tests.e2e.processes import (
    RunningProcess,
    child_pids,
    free_port,
    gunicorn_argv,
    readiness,
    run_until_exit,
    running,
    service_environment,
    wait_for_log,
    wait_for_readiness,
)
from tests.postgres_server import ThrowawayPostgres, create_database, throwaway_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WORKERS = 2
POOL_SIZE = 2


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A server of this test's own: it is stopped and started again."""
    with throwaway_postgres() as server:
        yield server


def start_service(
    database_url: str, tmp_path: Path, **settings: str
) -> AbstractContextManager[RunningProcess]:
    port = free_port()
    return running(
        gunicorn_argv(port),
        env=service_environment(
            database_url,
            VOICE_WORKERS=str(WORKERS),
            DATABASE_POOL_SIZE=str(POOL_SIZE),
            **settings,
        ),
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "gunicorn.log",
    )


def post(url: str, delivery: Delivery) -> requests.Response:
    return requests.post(url + delivery.path, data=delivery.form, timeout=30)


def deliveries_of(count: int, rng: random.Random) -> list[Delivery]:
    prefix = f"ATVId_{uuid.uuid4().hex[:12]}_"
    return [d for _ in range(count) for d in make_call(rng, prefix).deliveries]


def test_outage_gives_503_never_ok_and_the_service_recovers_by_itself(
    own_postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    rng = random.Random(5)
    database_url = create_database(own_postgres.url)
    before, during, after = (deliveries_of(5, rng) for _ in range(3))
    with start_service(database_url, tmp_path) as service:
        wait_for_log(service, "voice service ready", WORKERS)
        workers = child_pids(service.process.pid)
        assert deliver_concurrently(before, [service.url], threads=4).refused == []
        own_postgres.stop("immediate")
        wait_for_readiness(service.url, 503)
        # A worker that starts during the outage (here: replacing a crashed one) must not
        # fail to boot: gunicorn would then stop the whole service.
        os.kill(workers[0], signal.SIGKILL)
        wait_for_log(service, "database unreachable as this worker starts", 1)
        replaced = child_pids(service.process.pid)
        assert len(replaced) == WORKERS and workers[0] not in replaced
        problem = requests.get(f"{service.url}/voice/", timeout=15)
        assert problem.headers["Content-Type"].startswith("application/problem+json")
        assert problem.headers["Retry-After"] == "5"
        assert problem.json()["status"] == 503
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda d: post(service.url, d), during))
        assert {answer.status_code for answer in answers} == {503}
        assert all(answer.text != "OK" for answer in answers)
        own_postgres.start()
        # Every worker recovers by itself (one that wrote nothing since the outage does so
        # with its own trial write, within seconds): new connections reach every worker.
        wait_for_readiness(service.url, 200, in_a_row=4 * WORKERS)
        log = deliver_concurrently(after, [service.url], threads=4)
        # The service was never restarted: same master, same workers since the outage.
        assert child_pids(service.process.pid) == replaced
        assert service.process.poll() is None
    assert log.refused == [] and sum(log.acked.values()) == len(after)
    sessions = {d.form["sessionId"] for d in before + during + after}
    stored = read_store(database_url, sessions).stored
    assert {d.key for d in before + after} == set(stored)
    assert all(count == 1 for count in stored.values())
    assert not {d.key for d in during} & set(stored)


def test_statement_stuck_behind_a_lock_times_out_with_503_and_the_pool_stays_bounded(
    postgres_url: str, tmp_path: Path
) -> None:
    rng = random.Random(11)
    call = make_call(rng, f"ATVId_{uuid.uuid4().hex[:12]}_")
    first, second, *rest = call.deliveries
    engine = sa.create_engine(postgres_url)
    try:
        with start_service(postgres_url, tmp_path, DATABASE_STATEMENT_TIMEOUT_MS="500") as service:
            assert post(service.url, first).status_code == 200
            with engine.begin() as blocker:
                blocker.execute(
                    sa.text("SELECT 1 FROM calls WHERE session_id = :s FOR UPDATE"),
                    {"s": call.session_id},
                )
                started = time.monotonic()
                stuck = post(service.url, second)
                assert stuck.status_code == 503, stuck.text
                assert time.monotonic() - started < 10
                assert readiness(service.url) == 200
            assert post(service.url, second).text == "OK"
            log = DeliveryLog()
            traffic = deliveries_of(40, rng)
            deliver_concurrently(traffic, [service.url], threads=16, log=log)
            assert log.refused == []
            with engine.connect() as connection:
                connections = connection.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = 'at-voice-kit'"
                    )
                ).scalar_one()
            # Each worker: at most pool_size + overflow (= pool_size) connections.
            assert 1 <= connections <= WORKERS * 2 * POOL_SIZE
    finally:
        engine.dispose()
    stored = read_store(postgres_url, [call.session_id]).stored
    assert stored[first.key] == 1 and stored[second.key] == 1
    assert not rest or all(stored[d.key] == 0 for d in rest)


def test_an_unreachable_database_at_start_stops_the_start_naming_it(tmp_path: Path) -> None:
    """The master checks the database before any worker starts (fail fast, not a crash loop)."""
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/voice"
    status, output = run_until_exit(
        gunicorn_argv(free_port()), env={**os.environ, **service_environment(closed)}
    )
    assert status != 0, output
    assert "Connection refused" in output
    assert "Booting worker" not in output
