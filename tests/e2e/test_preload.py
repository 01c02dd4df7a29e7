"""``gunicorn --preload``: the master builds the app (and migrates) before forking workers.

Every worker then inherits the master's engine with the connection the migration used still
pooled. Each worker must open its own (service/store/database.py drops the inherited pool
in a forked child): two processes sharing one PostgreSQL socket, or one SQLite connection,
mix their conversations. Under concurrent webhooks from several clients, each request handled
by whichever worker the kernel picks, everything is acknowledged and stored exactly once.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.call_traffic import (
    assert_stored_exactly_once,
    deliver_concurrently,
    make_call,
    read_store,
    redelivery_schedule,
)
from tests.e2e.processes import free_port, gunicorn_argv, running, service_environment

pytestmark = pytest.mark.e2e

CALLS = 40


def test_preloaded_workers_store_every_webhook_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(1709)
    calls = [make_call(rng, f"ATVId_{uuid.uuid4().hex[:12]}_") for _ in range(CALLS)]
    schedule = redelivery_schedule(calls, rng)
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with running(
        gunicorn_argv(port, "--preload"),
        env=service_environment(database_url, VOICE_WORKERS="2", VOICE_THREADS="4"),
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=log_path,
    ) as service:
        log = deliver_concurrently(schedule, [service.url], threads=8, deadline_seconds=120)
        calls_page = requests.get(f"{service.url}/voice/calls", timeout=15)
    assert calls_page.status_code == 200
    assert log.refused == [] and log.failed_attempts == 0, (log.refused, log.failed_attempts)
    report = read_store(database_url, [call.session_id for call in calls])
    assert_stored_exactly_once(calls, log, report)
    assert "Traceback" not in log_path.read_text()
