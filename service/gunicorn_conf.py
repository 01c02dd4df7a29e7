"""gunicorn settings for the voice service: ``gunicorn -c python:at_voice_kit.service.gunicorn_conf
'at_voice_kit.service.app:create_app()'``. Every value can be overridden on the command line or with
``GUNICORN_CMD_ARGS``; the environment variables below are shortcuts.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from at_voice_kit.service.app import DATABASE_CHECKED_ENV
from at_voice_kit.service.startup import check_or_exit

SETTING_PROBLEMS: list[tuple[str, str]] = []
"""Problems with the ``VOICE_*`` gunicorn settings, reported with every other start-up problem
by :func:`on_starting` (raising here would make gunicorn print a traceback, one problem per
attempt)."""


def _whole_number(name: str, default: int, *, least: int = 1) -> int:
    """The whole number (at least ``least``) in ``name``, or ``default``; a bad value is
    recorded in :data:`SETTING_PROBLEMS` and stops the start."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < least:
        rule = "greater than zero" if least == 1 else f"of at least {least}"
        SETTING_PROBLEMS.append((name, f"must be a whole number {rule}, got {raw!r}"))
        return default
    return int(raw)


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
"""gunicorn's log levels."""

bind = os.environ.get("VOICE_BIND", "127.0.0.1:5000")
# Threads let one worker answer AT while another request waits on AT's API or the database.
worker_class = "gthread"
# One process per core keeps every core busy (a worker's Python runs on one core at a time).
# Waiting is done by threads, not processes: appends that wait together are committed
# together (service/store/group_commit.py), so the more requests a worker can hold, the
# fewer commits (fsyncs) a load needs; and fewer processes means fewer SQLite writers taking
# turns. Measured with tests/bench/bench_service.py: 2 x 16 beat the former 5 x 4.
workers = _whole_number("VOICE_WORKERS", min(max(multiprocessing.cpu_count(), 2), 8))
threads = _whole_number("VOICE_THREADS", 16)
# AT waits about 10 s for a webhook answer; invoke-call waits up to AT_TIMEOUT_SECONDS for AT.
timeout = _whole_number("VOICE_WORKER_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
# Bound what a client can send before the app sees it.
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
    SETTING_PROBLEMS.append(
        ("VOICE_LOG_LEVEL", f"must be one of {', '.join(LOG_LEVELS)}, got {loglevel!r}")
    )
    loglevel = "info"
# Query strings can carry phone numbers and the webhook secret: log the path only.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


def on_starting(server: Any) -> None:
    """In the master, once, before any worker and before the port is bound: check every
    setting, the flow and the database, and migrate it.

    Every problem stops the start here, all of them listed at once, each naming its variable,
    without a traceback (status 2); workers that start later (after a crash, or recycled)
    ride out a database outage instead of failing to boot, which would make gunicorn stop
    the whole service.
    """
    check_or_exit(os.environ, SETTING_PROBLEMS)
    os.environ[DATABASE_CHECKED_ENV] = "1"
