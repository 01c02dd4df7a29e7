"""Overload: a burst of several times the service's capacity, sent open-loop as AT sends it.

    python -m tests.bench.bench_service --overload [--burst-factor 5] [--burst-seconds 4]

AT does not slow down when an app does: each call's webhooks are sent when the call gets
there, on connections of their own, and AT gives up on one after 10 s. So the burst is sent
on a schedule (``factor`` x the capacity the benchmark measured, for ``seconds``), whatever
the answers, from a pool of connections opened beforehand (one request at a time on each, as
an HTTP client without pipelining sends them). Each request is timed from when it was due,
not from when a connection was free (a late send is the service's delay too), and counts as
answered OK, answered 503, other, or timed out (no answer within AT's 10 s). Every request
answered OK must be in the database, and none answered 503 may be.

Run in a process of its own (uvloop; responses parsed by httptools) beside the service; on
two shared cores it competes with the service for the CPU, which the report shows as the
rate it managed to send at. Every step is bounded; only 127.0.0.1 is targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httptools
import uvloop

from tests.bench.bench_store import notification

AT_TIMEOUT_SECONDS = 10.0
CLOSED = -1
"""The status of a request whose connection the service closed instead of answering."""


@dataclass
class Outcome:
    """What became of one request of the burst."""

    key: str
    due: float
    status: int = 0
    sent: float = 0.0
    answered: float = 0.0


class _Connection(asyncio.Protocol):
    """A kept-alive HTTP/1.1 connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiting: asyncio.Future[int] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.connection_lost(None)

    def on_message_complete(self) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(self.parser.get_status_code())
        self.parser = httptools.HttpResponseParser(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(CLOSED)


@dataclass
class Burst:
    """The requests of a burst and the pool of connections that carries them."""

    host: str
    port: int
    requests: list[tuple[str, bytes]]
    rate: float
    idle: asyncio.Queue[_Connection] = field(default_factory=asyncio.Queue)
    outcomes: list[Outcome] = field(default_factory=list)
    started: float = 0.0
    sent_by: float = 0.0

    async def open(self, connections: int) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(connections):
            _, protocol = await loop.create_connection(_Connection, self.host, self.port)
            self.idle.put_nowait(protocol)

    async def send_one(self, outcome: Outcome, request: bytes) -> None:
        """Send ``request`` on a free connection (waiting for one); note the answer, or no
        answer within AT's timeout from when it was due."""
        try:
            async with asyncio.timeout_at(self._deadline(outcome)):
                # Every connection busy: the request waits for one, its clock running.
                connection = await self.idle.get()
                await self._exchange(connection, outcome, request)
        except TimeoutError:
            return

    def _deadline(self, outcome: Outcome) -> float:
        loop = asyncio.get_running_loop()
        return loop.time() + (outcome.due + AT_TIMEOUT_SECONDS - time.monotonic())

    async def _exchange(self, connection: _Connection, outcome: Outcome, request: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            if connection.lost or connection.transport is None:
                _, connection = await loop.create_connection(_Connection, self.host, self.port)
            connection.waiting = loop.create_future()
            assert connection.transport is not None
            connection.transport.write(request)
            outcome.sent = time.monotonic()
            outcome.status = await connection.waiting
            outcome.answered = time.monotonic()
        except BaseException:
            if connection.transport is not None:
                connection.transport.close()  # as AT does: the answer would come too late
            connection = _Connection()
            connection.lost = True  # opened again by whoever takes it
            raise
        finally:
            self.idle.put_nowait(connection)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        tasks = []
        self.started = time.monotonic()
        for index, (key, request) in enumerate(self.requests):
            due = self.started + index / self.rate
            delay = due - time.monotonic()
            if delay > 0.001:
                await asyncio.sleep(delay)
            outcome = Outcome(key, due)
            self.outcomes.append(outcome)
            tasks.append(loop.create_task(self.send_one(outcome, request)))
        self.sent_by = time.monotonic()
        await asyncio.gather(*tasks)


def event_requests(host: str, path: str, tag: str, count: int) -> list[tuple[str, bytes]]:
    """``count`` distinct notifications (three per call), each as raw HTTP/1.1 bytes."""
    requests = []
    for index in range(count):
        form = notification(index // 3, index % 3, tag)
        body = urlencode(form).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests.append((f"{form['sessionId']}|{form['eventType']}", head + body))
    return requests


def summary(burst: Burst) -> dict[str, Any]:
    """Counts and latencies of the burst's outcomes (latency from when each was due)."""
    ok = [o for o in burst.outcomes if o.status == 200]
    latencies = sorted(o.answered - o.due for o in ok)
    from_sent = sorted(o.answered - o.sent for o in ok)
    late = sorted(o.sent - o.due for o in burst.outcomes if o.sent)
    return {
        "requests": len(burst.outcomes),
        "sent_rate": len(burst.outcomes) / max(burst.sent_by - burst.started, 1e-9),
        "ok": len(ok),
        "unavailable": sum(1 for o in burst.outcomes if o.status == 503),
        "closed": sum(1 for o in burst.outcomes if o.status == CLOSED),
        "other": sum(1 for o in burst.outcomes if o.status not in (CLOSED, 0, 200, 503)),
        "timed_out": sum(1 for o in burst.outcomes if o.status == 0),
        "ok_p50_ms": _percentile(latencies, 0.5) * 1000,
        "ok_p99_ms": _percentile(latencies, 0.99) * 1000,
        "ok_p99_from_sent_ms": _percentile(from_sent, 0.99) * 1000,
        "send_late_p99_ms": _percentile(late, 0.99) * 1000,
        "ok_keys": [o.key for o in ok],
        "unavailable_keys": [o.key for o in burst.outcomes if o.status == 503],
    }


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)] if ordered else 0.0


async def main_async(options: argparse.Namespace) -> dict[str, Any]:
    url = urlsplit(options.url)
    assert url.hostname == "127.0.0.1", "the burst targets loopback only"
    count = int(options.rate * options.seconds)
    burst = Burst(
        url.hostname,
        url.port or 80,
        event_requests(url.netloc, url.path or "/voice/events", options.tag, count),
        options.rate,
    )
    await burst.open(options.connections)
    await burst.run()
    return summary(burst)


def main(argv: list[str] | None = None) -> int:
    """Send one burst to ``--url``; print its summary as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=1500)
    parser.add_argument("--tag", default="burst")
    options = parser.parse_args(argv)
    if not 0 < options.rate <= 100_000 or not 0 < options.seconds <= 60:
        parser.error("--rate must be in (0, 100000] and --seconds in (0, 60]")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    print(json.dumps(uvloop.run(main_async(options))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
