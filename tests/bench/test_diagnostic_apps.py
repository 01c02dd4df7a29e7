"""The benchmark's diagnostic apps do what their rung of the ladder says, and nothing more.

``bench_service --diagnose`` runs them under gunicorn for minutes; here each answers a call's
notifications in-process, in a fresh interpreter (each replaces methods of the service's
classes for good), and what it stored is read back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.bench.bench_apps_inprocess import SERVICE_SETTINGS
from tests.bench.bench_store import notification
from tests.bench.diagnostic_apps import DIAGNOSTIC_DIRECTORY_ENV
from tests.e2e.processes import REPO_ROOT

TAG = "diagnostic"
SESSION_ID = notification(1, 0, TAG)["sessionId"]

DRIVER = """
import json, sys
from urllib.parse import urlencode
import falcon.testing
from tests.bench import diagnostic_apps
from tests.bench.bench_store import notification

client = falcon.testing.TestClient(getattr(diagnostic_apps, sys.argv[1])())
answers = []
for step in (0, 1, 2, 2):  # the last one is a redelivery
    form = notification(1, step, sys.argv[2])
    answer = client.simulate_post(
        "/voice/events",
        body=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    answers.append([answer.status_code, answer.text])
print(json.dumps(answers))
"""


def drive(factory: str, workdir: Path) -> sa.Engine:
    """Post one call's notifications (and a redelivery) to the diagnostic app ``factory``;
    return an engine on the database it used."""
    database = workdir / "voice.db"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, factory, TAG],
        cwd=REPO_ROOT,
        env={
            **SERVICE_SETTINGS,
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"sqlite:///{database}",
            DIAGNOSTIC_DIRECTORY_ENV: str(workdir),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [[200, "OK"]] * 4
    return sa.create_engine(f"sqlite:///{database}")


def stored_rows(engine: sa.Engine) -> tuple[int, int]:
    """(call_events rows, calls rows) of the diagnostic call."""
    with engine.connect() as connection:
        events, calls = (
            connection.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE session_id = :id"),  # noqa: S608
                {"id": SESSION_ID},
            ).scalar_one()
            for table in ("call_events", "calls")
        )
    engine.dispose()
    return events, calls


def test_without_store_nothing_is_stored(tmp_path: Path) -> None:
    assert stored_rows(drive("service_without_store", tmp_path)) == (0, 0)
    assert not list(tmp_path.glob("durable-floor-*"))


def test_the_durable_floor_appends_every_notification_as_a_line(tmp_path: Path) -> None:
    assert stored_rows(drive("service_with_durable_floor", tmp_path)) == (0, 0)
    [log] = tmp_path.glob("durable-floor-*.log")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line[:2] for line in lines] == [
        [SESSION_ID, "SessionRinging"],
        [SESSION_ID, "SessionAnswered"],
        [SESSION_ID, "SessionEnded"],
        [SESSION_ID, "SessionEnded"],  # the floor keeps no keys: a redelivery is a line too
    ]
    assert lines[2][2]["hangupCause"] == "NORMAL_CLEARING"


@pytest.mark.parametrize(
    "factory",
    ["service_without_outcomes", "service_writing_on_the_loop", "service_with_write_timing"],
)
def test_the_database_rungs_store_events_once(factory: str, tmp_path: Path) -> None:
    events, calls = stored_rows(drive(factory, tmp_path))
    assert events == 3  # the redelivery is stored once, as by the service
    assert calls == (0 if factory == "service_without_outcomes" else 1)
