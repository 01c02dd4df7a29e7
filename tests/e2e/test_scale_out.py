"""Scale-out: two service instances (gunicorn, two workers each) on one PostgreSQL database.

Every webhook is sent to both instances, deduplicated ones up to three times, shuffled, from
several clients at once, as when a load balancer spreads AT's retries over instances. The
database ends with each webhook stored exactly once and each call's outcome as derived from
its distinct events: row locks and the unique dedup key hold across instances.
"""

from __future__ import annotations

import random
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.e2e.call_traffic import (
    Delivery,
    assert_stored_exactly_once,
    deliver_concurrently,
    make_call,
    read_store,
)
from tests.e2e.processes import free_port, gunicorn_argv, running, service_environment

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

CALLS = 80
INSTANCES = 2


def test_two_instances_on_one_postgres_lose_and_duplicate_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    rng = random.Random(727)
    prefix = f"ATVId_{uuid.uuid4().hex[:12]}_"
    calls = [make_call(rng, prefix) for _ in range(CALLS)]
    # Each deduplicated webhook goes to every instance (and some twice); the rest once.
    schedule: list[Delivery] = []
    for call in calls:
        for delivery in call.deliveries:
            copies = INSTANCES + rng.randint(0, 1) if delivery.deduplicated else 1
            schedule.extend([delivery] * copies)
    rng.shuffle(schedule)
    with ExitStack() as stack:
        urls = []
        for instance in range(INSTANCES):
            port = free_port()
            service = stack.enter_context(
                running(
                    gunicorn_argv(port),
                    env=service_environment(postgres_url, VOICE_WORKERS="2", VOICE_THREADS="8"),
                    url=f"http://127.0.0.1:{port}",
                    ready_path="/voice/",
                    log_path=tmp_path / f"instance-{instance}.log",
                )
            )
            urls.append(service.url)
        # Consecutive copies of a webhook land on different instances: requests are dealt
        # to the URLs in turn, and the clients run at once.
        log = deliver_concurrently(schedule, urls, threads=8, deadline_seconds=120)
    assert all(log.acked_by_url[url] > 0 for url in urls), log.acked_by_url
    report = read_store(postgres_url, [call.session_id for call in calls])
    assert_stored_exactly_once(calls, log, report)
