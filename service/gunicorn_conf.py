"""gunicorn settings for the voice service: ``gunicorn -c python:at_voice_kit.service.gunicorn_conf
'at_voice_kit.service.app:create_app()'``. Every value can be overridden on the command line or with
``GUNICORN_CMD_ARGS``; the environment variables below are shortcuts.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from at_voice_kit.service.server import read_timeout_from_env


def _whole_number(name: str, default: int, *, least: int = 1) -> int:
    """The whole number (at least ``least``) in ``name``, or ``default``; a bad value stops
    the start."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < least:
        # gunicorn reports this as "Failed to read config file" with the message.
        rule = "greater than zero" if least == 1 else f"of at least {least}"
        raise ValueError(f"{name}: must be a whole number {rule}, got {raw!r}")
    return int(raw)


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
"""gunicorn's log levels."""

bind = os.environ.get("VOICE_BIND", "127.0.0.1:5000")
# One event loop per process answers all of its requests (uvicorn on uvloop and httptools):
# a webhook awaits its batch's commit without a thread of its own, and one writer per process
# commits whole batches (service/store/commit_queue.py). Measured with
# tests/bench/bench_service.py against the former threaded workers (gthread, 2 x 16): see
# docs/performance.md. The worker also bounds how long a request may take to arrive
# (VOICE_READ_TIMEOUT) and keeps query strings out of the access log (service/server.py).
worker_class = "at_voice_kit.service.server.VoiceWorker"
# One process per core keeps every core busy (a worker's Python runs on one core at a time).
workers = _whole_number("VOICE_WORKERS", min(max(multiprocessing.cpu_count(), 2), 8))
# Threads per worker for the work that blocks (AT's SDK, reads of the call history): read by
# the app (service/config.py), checked here too so that a bad value stops the start at once.
_blocking_threads = _whole_number("VOICE_THREADS", 16)
_read_timeout = read_timeout_from_env()
# At most this many requests answered at once per worker; more are answered 503 at once, so
# that under a burst every request taken on is answered before AT's 10 s timeout.
worker_connections = 500
# AT waits about 10 s for a webhook answer; invoke-call waits up to AT_TIMEOUT_SECONDS for AT.
timeout = _whole_number("VOICE_WORKER_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
# Bound what a client can send before the app sees it (service/server.py applies them).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Worker recycling is off by default (0), as in gunicorn. A recycled worker closes its
# kept-alive connections, and the clients reconnect to the workers still running before the
# new one is up: with clients that keep connections open (a load balancer, a proxy, wrk) one
# worker then serves nearly everything, on one core, until the connections close. Measured
# with tests/bench/bench_service.py, recycling every 10,000 requests cost the no-work
# baseline about a fifth of its throughput. Set VOICE_MAX_REQUESTS to bound a leak anyway.
max_requests = _whole_number("VOICE_MAX_REQUESTS", 0, least=0)
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("VOICE_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("VOICE_LOG_LEVEL", "info").strip().lower() or "info"
if loglevel not in LOG_LEVELS:
    # gunicorn itself would fall back to "info" without a word.
    raise ValueError(f"VOICE_LOG_LEVEL: must be one of {', '.join(LOG_LEVELS)}, got {loglevel!r}")
# Query strings can carry phone numbers and the webhook secret: log the path only.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


def on_starting(server: Any) -> None:
    """In the master, once, before any worker: check the settings and the database, migrate.

    A wrong setting or an unreachable database stops the start here, with a message naming
    it; workers that start later (after a crash, or recycled) ride out a database outage
    instead of failing to boot, which would make gunicorn stop the whole service.
    """
    from at_voice_kit.service.app import DATABASE_CHECKED_ENV, prepare_database

    prepare_database()
    os.environ[DATABASE_CHECKED_ENV] = "1"
