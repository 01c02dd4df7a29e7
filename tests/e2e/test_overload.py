"""Overload answered in time: a webhook that waits longer than the service's own bound for
the event store's writer is answered 503 with ``Retry-After`` (AT retries it), never stored,
and never left waiting until AT gives up (10 s).

The real service under gunicorn, on SQLite. The test holds the database's writer lock
(``<database>-writer.lock``, the lock the workers take in turn) as another process's long
commit would, so that no worker can write; with ``VOICE_MAX_WAIT=0.5`` every webhook sent
meanwhile must be refused well before AT's timeout. Once the lock is let go, none of them is
in the database, and the next webhook is stored and acknowledged. Before, a webhook waited
for the lock for as long as it was held.
"""

from __future__ import annotations

import fcntl
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.e2e.processes import free_port, gunicorn_argv, running, service_environment

pytestmark = pytest.mark.e2e

REQUESTS = 24
AT_TIMEOUT_SECONDS = 10


def notification(number: int) -> dict[str, str]:
    return {
        "sessionId": f"ATVId_overload{number:04d}",
        "eventType": "SessionRinging",
        "callSessionState": "Ringing",
        "direction": "Outbound",
        "callerNumber": "+254711082369",
        "destinationNumber": "+254711082000",
    }


def post(url: str, number: int) -> tuple[int, str | None, float]:
    started = time.monotonic()
    answer = requests.post(
        f"{url}/voice/events", data=notification(number), timeout=AT_TIMEOUT_SECONDS
    )
    return answer.status_code, answer.headers.get("Retry-After"), time.monotonic() - started


def stored(database_url: str) -> set[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT session_id FROM call_events WHERE session_id LIKE 'ATVId_over%'")
            )
            return {row.session_id for row in rows}
    finally:
        engine.dispose()


def test_webhooks_no_writer_can_take_in_time_are_refused_and_never_stored(tmp_path: Path) -> None:
    database = tmp_path / "voice.db"
    database_url = f"sqlite:///{database}"
    port = free_port()
    with running(
        gunicorn_argv(port),
        env=service_environment(database_url, VOICE_MAX_WAIT="0.5", VOICE_WORKERS="2"),
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "gunicorn.log",
    ) as service:
        lock = os.open(f"{database}-writer.lock", os.O_RDONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a commit of another process that takes long
            with ThreadPoolExecutor(REQUESTS) as pool:
                answers = list(pool.map(lambda n: post(service.url, n), range(REQUESTS)))
            time.sleep(1)  # the refused requests stay refused once a writer could take them
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)
        assert {(status, retry) for status, retry, _ in answers} == {(503, "1")}, answers
        assert max(seconds for _, _, seconds in answers) < AT_TIMEOUT_SECONDS / 2, answers
        assert post(service.url, REQUESTS)[0] == 200
        assert "overloaded" in service.log()
    assert stored(database_url) == {f"ATVId_overload{REQUESTS:04d}"}
