"""Redelivered and reordered webhooks, over HTTP, across gunicorn workers, on both databases.

The store-level property (tests/service/test_store.py) says a call's outcome depends only on
the set of its events. Here the same holds end to end: deliveries are shuffled, deduplicated
ones are sent up to three times, from several clients at once, each request on a new
connection so consecutive requests land on different workers; afterwards every request is
stored exactly once and each call's outcome is the one derived from its distinct events.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.call_traffic import (
    assert_stored_exactly_once,
    deliver_concurrently,
    make_call,
    read_store,
    redelivery_schedule,
)
from tests.e2e.processes import free_port, gunicorn_argv, running, service_environment
from tests.postgres_server import create_database

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('redelivery') / 'voice.db'}"
    server_url: str = request.getfixturevalue("postgres_server_url")
    return create_database(server_url)


@pytest.fixture(scope="module")
def service_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path: Path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with running(
        gunicorn_argv(port),
        env=service_environment(database_url, VOICE_WORKERS="3", VOICE_THREADS="4"),
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=log_path,
    ) as service:
        yield service.url


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), calls=st.integers(1, 6))
def test_redelivered_and_reordered_webhooks_are_stored_once_with_the_right_outcome(
    database_url: str, service_url: str, seed: int, calls: int
) -> None:
    rng = random.Random(seed)
    # Hypothesis may replay a seed: fresh session ids keep examples apart in the database.
    prefix = f"ATVId_{uuid.uuid4().hex[:12]}_"
    generated = [make_call(rng, prefix) for _ in range(calls)]
    schedule = redelivery_schedule(generated, rng)
    log = deliver_concurrently(schedule, [service_url], threads=4, deadline_seconds=60)
    report = read_store(database_url, [call.session_id for call in generated])
    assert_stored_exactly_once(generated, log, report)
