"""gunicorn settings for the voice service: ``gunicorn -c python:at_voice_kit.service.gunicorn_conf
'at_voice_kit.service.app:create_app()'``. Every value can be overridden on the command line or with
``GUNICORN_CMD_ARGS``; the environment variables below are shortcuts.
"""

from __future__ import annotations

import os
from typing import Any

from at_voice_kit.service.app import DATABASE_CHECKED_ENV
from at_voice_kit.service.server import VoiceWorker
from at_voice_kit.service.server_settings import ServerSettings
from at_voice_kit.service.startup import check_or_exit

SERVICE_APP = "at_voice_kit.service.app:"
"""The service's app, as gunicorn's target names it."""

SETTINGS = ServerSettings.from_env(os.environ)
SETTING_PROBLEMS: list[tuple[str, str]] = list(SETTINGS.problems)
"""Problems with the ``VOICE_*`` gunicorn settings (``server_settings.py``), reported with every
other start-up problem by :func:`on_starting` (raising here would make gunicorn print a
traceback, one problem per attempt)."""

bind = SETTINGS.bind
# One event loop per process answers all of its requests (uvicorn on uvloop and httptools):
# a webhook awaits its batch's commit without a thread of its own, and one writer per process
# commits whole batches (service/store/commit_queue.py). Measured with
# tests/bench/bench_service.py against the former threaded workers (gthread, 2 x 16): see
# docs/performance.md. The worker also bounds how long a request may take to arrive
# (VOICE_READ_TIMEOUT) and keeps query strings out of the access log (service/server.py).
# VOICE_THREADS sizes each worker's pool for the work that blocks (read by the app).
worker_class = "at_voice_kit.service.server.VoiceWorker"
# One process per core keeps every core busy (a worker's Python runs on one core at a time).
workers = SETTINGS.workers
# At most this many requests answered at once per worker; more are answered 503 at once, so
# that under a burst every request taken on is answered before AT's 10 s timeout.
worker_connections = 500
# AT waits about 10 s for a webhook answer; invoke-call waits up to AT_TIMEOUT_SECONDS for AT.
timeout = SETTINGS.timeout
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
max_requests = SETTINGS.max_requests
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("VOICE_ACCESS_LOG", "-")
errorlog = "-"
loglevel = SETTINGS.loglevel
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
    check_or_exit(os.environ, [*SETTING_PROBLEMS, *worker_class_problems(server)])
    os.environ[DATABASE_CHECKED_ENV] = "1"


def worker_class_problems(server: Any) -> list[tuple[str, str]]:
    """A worker class given on the command line (``-k``) that cannot serve the service.

    The service's app is ASGI: a WSGI worker (``sync``, ``gthread``, the service's workers
    before uvicorn) booted, then answered every webhook 500 and logged its URL, webhook secret
    included; a plain uvicorn worker served it without the read timeout and without the access
    log that leaves query strings out. Either stops the start instead. Other apps served with
    these settings (the benchmark's WSGI baseline) choose their worker freely.
    """
    if not str(getattr(server.app, "app_uri", "")).startswith(SERVICE_APP):
        return []
    chosen = server.cfg.worker_class
    if isinstance(chosen, type) and issubclass(chosen, VoiceWorker):
        return []
    rule = f"must be {worker_class} (or left out), not {server.cfg.worker_class_str!r}"
    return [("--worker-class", rule)]
