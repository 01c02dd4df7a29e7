"""A real ``atsim serve`` keeps its memory bounded whatever apps answer and clients send.

Issue 14: an app answering every webhook with 1 KB of gzip that unpacks to 999 KB grew the
server from 59 MB to 1,220 MB over 200 calls at ``--speed fast``: the journal kept every
answer whole. Measured with this test's app and requests (VmRSS of the server):

- before the fix: 57 MiB at start, +435 MiB after 80 calls, +80 MiB after the 150 large
  requests (and 1,141 MB after 200 calls);
- after it: +11 MiB after 80 calls, +0 after the requests (74 MB after 200 calls).

The bounds below (100 and 40 MiB) sit far from both.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from at_voice_kit.simulator.testing.wsgi_server import serve_wsgi_app
from tests.simulator.atsim_process import atsim_serve, process_stats

pytestmark = pytest.mark.e2e

UNPACKED = b'<?xml version="1.0"?><Response><Say>Hello</Say></Response>' + b" " * 999_000
PACKED = gzip.compress(UNPACKED, 9)
CALLS = 80
BATCH = 10
MIB = 1024

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def gzip_bomb_app(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
    """Answers every request (callbacks, events, final requests) with the bomb."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", str(len(PACKED))),
        ],
    )
    return [PACKED]


@pytest.fixture
def bomb_url() -> Iterator[str]:
    assert len(PACKED) < 2000 and len(UNPACKED) > 999_000
    with serve_wsgi_app(gzip_bomb_app) as url:
        yield url


def rss_kib(pid: int) -> int:
    return process_stats(pid).rss_kib


def place_and_finish(client: httpx.Client, batch: int) -> None:
    """Place ``BATCH`` calls and wait until none is live."""
    to = ",".join(f"+2547330{batch:02d}{index:03d}" for index in range(BATCH))
    placed = client.post(
        "/call",
        data={"username": "sandbox", "from": "+254711082000", "to": to},
        headers={"apiKey": "atsim-sandbox-key", "Accept": "application/json"},
    )
    assert placed.status_code == 200, placed.text
    deadline = time.monotonic() + 120
    while client.get("/_simulator/health").json()["liveCalls"]:
        assert time.monotonic() < deadline, "calls did not end"
        time.sleep(0.05)


def test_gzip_bomb_answers_and_large_request_bodies_keep_memory_bounded(bomb_url: str) -> None:
    with (
        atsim_serve(
            "--speed", "fast", "--callback-url", f"{bomb_url}/voice",
            "--events-url", f"{bomb_url}/events",
        ) as atsim,
        httpx.Client(base_url=atsim.url, timeout=60) as client,
    ):  # fmt: skip
        pid = atsim.process.pid
        started = rss_kib(pid)
        for batch in range(CALLS // BATCH):
            place_and_finish(client, batch)
        after_calls = rss_kib(pid)
        calls = client.get("/_simulator/calls").json()["calls"]
        assert len(calls) == CALLS
        webhooks = client.get(f"/_simulator/calls/{calls[0]['sessionId']}").json()["webhooks"]
        assert webhooks and all(w["bodySize"] == len(UNPACKED) for w in webhooks)
        assert all(w["bodyTruncated"] and len(w["body"]) == 4096 for w in webhooks)
        # Kept whole, the answers of 80 calls took over 400 MB; previews take a few.
        assert after_calls - started < 100 * MIB, (started, after_calls)

        # API requests: a 600 KB form each (refused: the journal keeps refused ones too).
        for index in range(150):
            refused = client.post(
                "/call",
                data={"username": "nobody", "from": "+254711082000", "to": "x" * 600_000},
                headers={"apiKey": "wrong-key", "Accept": "application/json"},
            )
            assert refused.status_code == 401, (index, refused.text)
        after_requests = rss_kib(pid)
        journal = client.get("/_simulator/requests").json()["requests"]
        assert [entry["formTruncated"] for entry in journal[-150:]] == [True] * 150
        # Kept whole, these took 90 MB.
        assert after_requests - after_calls < 40 * MIB, (after_calls, after_requests)
