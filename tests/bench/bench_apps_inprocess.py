"""Benchmark: the apps' own CPU per request, called in-process, without gunicorn or HTTP.

    python -m tests.bench.bench_apps_inprocess [--requests 5000]

The bare ASGI app (``tests/bench/baseline_app.py``) and the service with a store that keeps
nothing (``tests/bench/diagnostic_apps.py``) are called as ASGI apps, one request after
another on one event loop in this process, with the forms ``bench_service`` sends (events: a call's
notifications; instruct: first callback requests). The difference is what Falcon's work on
the service's routes, its middleware and the validation of every field cost, apart from
HTTP and the store; ``bench_service`` measures the same apps under gunicorn. Best of 5
rounds; the machine is noisy: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from tests.bench.bench_store import notification, notification_forms

ROUNDS = 5
SERVICE_SETTINGS = {
    "AT_USERNAME": "sandbox",
    "AT_API_KEY": "bench",
    "AT_VOICE_NUMBER": "+254711082000",
    "AT_VOICE_URL": "http://127.0.0.1:9",
    "VOICE_LOG_LEVEL": "warning",
}
AsgiApp = Callable[..., Awaitable[None]]


def request_scope(path: str, body: bytes) -> dict[str, Any]:
    """The ASGI scope of a form POST to ``path``, as uvicorn would hand it to the app."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:5000"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 5000),
    }


async def answer_status(app: AsgiApp, scope: dict[str, Any], body: bytes) -> int:
    """Call ``app`` with one request; its status."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def workload_bodies(workload: str, count: int) -> tuple[str, list[bytes]]:
    """The path and ``count`` distinct form bodies of ``workload``."""
    if workload == "events":
        return "/voice/events", [
            urlencode(form).encode() for form in notification_forms(count, "w")
        ]
    bodies = []
    for call in range(count):  # each call's first callback request: no event in it
        form = notification(call, 0, "w")
        del form["eventType"], form["callSessionState"]
        bodies.append(urlencode(form).encode())
    return "/voice/instruct", bodies


def cpu_per_request(app: AsgiApp, path: str, bodies: list[bytes]) -> float:
    """Microseconds of this process's CPU per request, best of :data:`ROUNDS` rounds; the
    requests' scopes are built before each round is timed."""

    async def one_round() -> float:
        scopes = [request_scope(path, body) for body in bodies]
        started = time.process_time()
        statuses = [
            await answer_status(app, scope, body)
            for scope, body in zip(scopes, bodies, strict=True)
        ]
        spent = time.process_time() - started
        if any(status != 200 for status in statuses):
            raise SystemExit(f"{path}: an app answered {sorted(set(statuses))}")
        return spent / len(bodies) * 1e6

    return min(asyncio.run(one_round()) for _ in range(ROUNDS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per round")
    options = parser.parse_args()
    if not 100 <= options.requests <= 1_000_000:
        parser.error("--requests must be between 100 and 1,000,000")
    print(f"at-voice-kit in-process app benchmark: {options.requests} requests, best of {ROUNDS}")
    with tempfile.TemporaryDirectory(prefix="avk-bench-apps-") as directory:
        os.environ.update(SERVICE_SETTINGS, DATABASE_URL=f"sqlite:///{directory}/unused.db")
        from tests.bench.baseline_app import create_asgi_app as baseline_app
        from tests.bench.diagnostic_apps import service_without_store

        apps: dict[str, AsgiApp] = {"baseline": baseline_app()}
        # Last: it replaces EventStore.append_async for the rest of this process.
        apps["service without its store"] = service_without_store()
        for workload in ("events", "instruct"):
            path, bodies = workload_bodies(workload, options.requests)
            figures = {name: cpu_per_request(app, path, bodies) for name, app in apps.items()}
            base = figures["baseline"]
            for name, cpu in figures.items():
                print(f"{workload:8}  {name:27}  cpu {cpu:6.1f} µs/request  ({cpu / base:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
