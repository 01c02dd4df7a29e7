"""How the service is served: gunicorn workers running uvicorn (uvloop, httptools), with the
request read time, the request head and the requests in flight bounded
(``contracts/bounded_http.py``, the protocol ``atsim serve`` runs too), and an access log
without query strings.

gunicorn supervises the processes (``service/gunicorn_conf.py`` names :class:`VoiceWorker`);
each worker runs one event loop that answers every request of its process, the webhooks
awaiting their batch's commit (``store/commit_queue.py``).

Each request must arrive whole within ``VOICE_READ_TIMEOUT`` seconds (a slow or silent
client gets 408 and is closed), its head within gunicorn's ``limit_request_line``,
``limit_request_fields`` and ``limit_request_field_size``; a worker answers at most
gunicorn's ``worker_connections`` requests at once, more get 503 at once; an idle
kept-alive connection is closed after gunicorn's ``keepalive`` seconds.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, ClassVar

from gunicorn.arbiter import Arbiter
from uvicorn import Server
from uvicorn_worker import UvicornWorker

from at_voice_kit.contracts.bounded_http import (
    DEFAULT_MAX_FIELD_SIZE,
    DEFAULT_MAX_FIELDS,
    DEFAULT_MAX_LINE,
    DEFAULT_READ_TIMEOUT_SECONDS,
    RequestLimits,
    bounded_protocol,
)

READ_TIMEOUT_ENV = "VOICE_READ_TIMEOUT"
MASTER_CHECK_SECONDS = 1.0
"""How often a worker checks that gunicorn's master is still there."""
MAX_READ_TIMEOUT_SECONDS = 300.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def read_timeout_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """``VOICE_READ_TIMEOUT`` in seconds (default 10); a bad value stops the start, naming it."""
    value, problem = read_timeout_setting(environ)
    if problem is not None:
        raise ValueError(f"{READ_TIMEOUT_ENV}: {problem}")
    return value


def read_timeout_setting(environ: Mapping[str, str]) -> tuple[float, str | None]:
    """``VOICE_READ_TIMEOUT`` in seconds and what is wrong with it (``None``: nothing); a bad
    value reads as the default. The start-up check (``server_settings.py``) reports the
    problem with the others; a worker refuses to start on it."""
    raw = environ.get(READ_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_READ_TIMEOUT_SECONDS, None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_READ_TIMEOUT_SECONDS:
        problem = (
            f"must be a number of seconds greater than 0 and at most "
            f"{MAX_READ_TIMEOUT_SECONDS:g}, got {raw!r}"
        )
        return DEFAULT_READ_TIMEOUT_SECONDS, problem
    return value, None


class AccessLog:
    """An ASGI wrapper writing one access line per request to gunicorn's access log, in the
    format ``gunicorn_conf.access_log_format`` gives gunicorn's own workers: the path without
    its query string (it can carry phone numbers and the webhook secret). uvicorn's own
    access log prints the query string, so it is off."""

    def __init__(self, app: ASGIApp, logger: logging.Logger) -> None:
        self._app = app
        self._logger = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, noting the status and the body's size; log once it is done."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = {"status": 0, "size": 0}

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["size"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._app(scope, receive, noting_send)
        finally:
            self._logger.info(_access_line(scope, answer, time.perf_counter() - started))


def _access_line(scope: Scope, answer: dict[str, int], seconds: float) -> str:
    client = scope.get("client") or ("-", 0)
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    agent = next((v for k, v in scope["headers"] if k == b"user-agent"), b"-").decode("latin-1")
    return (
        f'{client[0]} "{scope["method"]} {path} HTTP/{scope["http_version"]}" '
        f'{answer["status"]} {answer["size"]} {int(seconds * 1000)}ms "{agent}"'
    )


class VoiceWorker(UvicornWorker):  # type: ignore[misc]  # uvicorn_worker is untyped
    """gunicorn's worker for the service: uvicorn on uvloop and httptools, each request
    bounded in read time and head size, at most ``worker_connections`` requests at once (more
    are answered 503 at once), the access log without query strings."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = RequestLimits(
            read_timeout=read_timeout_from_env(),
            max_in_flight=self.cfg.worker_connections,
            max_line=self.cfg.limit_request_line or DEFAULT_MAX_LINE,
            max_fields=self.cfg.limit_request_fields or DEFAULT_MAX_FIELDS,
            max_field_size=self.cfg.limit_request_field_size or DEFAULT_MAX_FIELD_SIZE,
            on_last_request=self._stop_accepting,
        )
        self._server: Server | None = None
        self.config.http = bounded_protocol(limits)
        # uvicorn calls back every timeout_notify seconds: the heartbeat gunicorn's master
        # watches, and here also the check that the master is still there.
        self.config.timeout_notify = min(self.timeout, MASTER_CHECK_SECONDS)

    async def _serve(self) -> None:
        """uvicorn_worker's own, keeping the server so that it can stop accepting early."""
        self.config.app = self.wsgi
        self._server = Server(config=self.config)
        self._install_sigquit_handler()
        await self._server.serve(sockets=self.sockets)
        if not self._server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    def _stop_accepting(self) -> None:
        """The worker's request limit is reached: accept no more connections (uvicorn would
        only at its next tick, and close unanswered those it accepted meanwhile); the ones
        waiting in the shared socket's queue go to a worker still serving."""
        for listener in getattr(self._server, "servers", ()):
            listener.close()

    async def callback_notify(self) -> None:
        """The heartbeat; and, when the master is gone (killed), a graceful stop, as
        gunicorn's own workers do: an orphan would keep serving on the inherited socket and
        keep a restarted master from binding it."""
        if os.getppid() != self.ppid:
            self.log.info("Parent changed, shutting down: %s", self)
            os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own graceful shutdown
            return
        self.notify()

    def load_wsgi(self) -> None:
        """Load the app (gunicorn's name for it), wrapped in the access log when one is kept."""
        super().load_wsgi()
        if self.cfg.accesslog:
            app: ASGIApp = self.wsgi  # type: ignore[has-type]  # gunicorn's attribute
            self.wsgi = AccessLog(app, self.log.access_log)
