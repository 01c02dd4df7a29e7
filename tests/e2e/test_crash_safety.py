"""Crash safety: ``kill -9`` a worker, then the master, mid-stream; nothing acknowledged is lost.

Clients send a bounded stream of AT webhooks (with redeliveries) and, like AT, retry what
got no answer. Mid-stream a gunicorn worker is killed with SIGKILL (the master replaces it),
then the master itself (its workers exit or are killed too), and the service is started
again on the same port. Afterwards every request that was answered with success is stored
exactly once, nothing is half-stored (each call's row counts exactly its stored events and
holds the outcome they give), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.call_traffic import (
    DeliveryLog,
    assert_stored_exactly_once,
    deliver_concurrently,
    make_call,
    read_store,
    redelivery_schedule,
)
from tests.e2e.processes import (
    REPO_ROOT,
    RunningProcess,
    child_pids,
    free_port,
    gunicorn_argv,
    kill_group,
    service_environment,
    stop,
    wait_until_ready,
)

pytestmark = pytest.mark.e2e

CALLS = 150
CLIENTS = 6


def start_service(port: int, database_url: str, log_path: Path) -> RunningProcess:
    """gunicorn with the production settings (two workers), in its own process group."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            gunicorn_argv(port),
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                **service_environment(database_url, VOICE_WORKERS="2"),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    started = RunningProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_until_ready(started, "/voice/", 30)
    except BaseException:
        kill_group(process)
        raise
    return started


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_acknowledged_webhooks_survive_kill_9_of_a_worker_then_the_master(
    database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(20260118)
    calls = [make_call(rng, f"ATVId_{uuid.uuid4().hex[:12]}_") for _ in range(CALLS)]
    schedule = redelivery_schedule(calls, rng, max_copies=2)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "gunicorn.log"
    log = DeliveryLog()
    first = start_service(port, database_url, log_path)
    second: RunningProcess | None = None
    sender = threading.Thread(
        target=deliver_concurrently,
        args=(schedule, [url]),
        kwargs={"threads": CLIENTS, "deadline_seconds": 120, "log": log},
    )
    try:
        sender.start()
        wait_for(lambda: log.acked_total() >= len(schedule) // 4, 60, "a quarter of the stream")
        workers = child_pids(first.process.pid)
        assert workers, "gunicorn has no workers"
        os.kill(workers[0], signal.SIGKILL)
        wait_for(lambda: log.acked_total() >= len(schedule) // 2, 60, "half of the stream")
        workers = child_pids(first.process.pid)
        os.kill(first.process.pid, signal.SIGKILL)
        acked_at_crash = log.acked_total()
        first.process.wait(timeout=15)
        # Orphaned workers notice their master is gone and exit; any that linger are killed
        # so the port is free for the restart.
        try:
            wait_for(lambda: not any(is_alive(pid) for pid in workers), 10, "orphans to exit")
        except AssertionError:
            kill_group(first.process)
        second = start_service(port, database_url, log_path)
        sender.join(timeout=150)
        assert not sender.is_alive()
    finally:
        kill_group(first.process)
        if second is not None:
            stop(second.process)
    assert acked_at_crash < len(schedule), "the stream ended before the master was killed"
    assert log.failed_attempts > 0, "the crashes interrupted no request"
    report = read_store(database_url, [call.session_id for call in calls])
    assert_stored_exactly_once(calls, log, report, all_acked=False)
    retried = {d.key for call in calls for d in call.deliveries if d.deduplicated}
    assert retried - set(log.acked) == set(), "a redelivered webhook was never acknowledged"
