"""The gunicorn settings the service reads from ``VOICE_*`` variables, checked without starting.

``service/gunicorn_conf.py`` serves with them, and ``at-voice-service check`` checks them, so
that a check that passes means gunicorn starts: a bad value is a problem naming its variable,
reported with every other start-up problem (``startup.py``), never a gunicorn traceback or a
message of gunicorn's own that names no variable (``VOICE_BIND=127.0.0.1:99999`` raised
``OverflowError``; ``VOICE_BIND=127.0.0.1:abc`` stopped the start before any other check).
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from at_voice_kit.service.server import READ_TIMEOUT_ENV, read_timeout_setting

DEFAULT_BIND = "127.0.0.1:5000"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
"""gunicorn's log levels."""
MAX_PORT = 65_535


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """What gunicorn is told, and the problems found reading it (each ``(variable,
    problem)``); a value with a problem is replaced by its default, never served with."""

    bind: str
    workers: int
    threads: int
    timeout: int
    max_requests: int
    loglevel: str
    read_timeout: float
    problems: tuple[tuple[str, str], ...]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServerSettings:
        """Read every ``VOICE_*`` gunicorn setting of ``environ``, collecting every problem."""
        problems: list[tuple[str, str]] = []
        reader = _Reader(environ, problems)
        default_workers = min(max(multiprocessing.cpu_count(), 2), 8)
        return cls(
            bind=reader.bind("VOICE_BIND"),
            workers=reader.whole_number("VOICE_WORKERS", default_workers),
            threads=reader.whole_number("VOICE_THREADS", 16, most=256),
            timeout=reader.whole_number("VOICE_WORKER_TIMEOUT", 30),
            max_requests=reader.whole_number("VOICE_MAX_REQUESTS", 0, least=0),
            loglevel=reader.log_level("VOICE_LOG_LEVEL"),
            read_timeout=reader.read_timeout(),
            problems=tuple(problems),
        )


class _Reader:
    def __init__(self, environ: Mapping[str, str], problems: list[tuple[str, str]]) -> None:
        self._environ = environ
        self._problems = problems

    def _text(self, name: str) -> str:
        return self._environ.get(name, "").strip()

    def whole_number(
        self, name: str, default: int, *, least: int = 1, most: int | None = None
    ) -> int:
        """The whole number (at least ``least``, at most ``most``) in ``name``, or
        ``default``."""
        raw = self._text(name)
        if not raw:
            return default
        digits = raw.isascii() and raw.isdigit()
        if not digits or int(raw) < least or (most is not None and int(raw) > most):
            rule = "greater than zero" if least == 1 else f"of at least {least}"
            if most is not None:
                rule += f" and at most {most}"
            self._problems.append((name, f"must be a whole number {rule}, got {raw!r}"))
            return default
        return int(raw)

    def read_timeout(self) -> float:
        """``VOICE_READ_TIMEOUT``, as each worker reads it (``server.py``)."""
        value, problem = read_timeout_setting(self._environ)
        if problem is not None:
            self._problems.append((READ_TIMEOUT_ENV, problem))
        return value

    def log_level(self, name: str) -> str:
        """One of :data:`LOG_LEVELS` (gunicorn itself would fall back to "info" silently)."""
        level = self._text(name).lower() or "info"
        if level not in LOG_LEVELS:
            self._problems.append((name, f"must be one of {', '.join(LOG_LEVELS)}, got {level!r}"))
            return "info"
        return level

    def bind(self, name: str) -> str:
        """The address to listen on: ``HOST:PORT``, ``[IPv6]:PORT``, ``unix:PATH`` or
        ``fd://N``, as gunicorn takes them."""
        raw = self._text(name) or DEFAULT_BIND
        problem = bind_problem(raw)
        if problem is not None:
            self._problems.append((name, f"{problem}, got {raw!r} (such as {DEFAULT_BIND})"))
            return DEFAULT_BIND
        return raw


def bind_problem(address: str) -> str | None:
    """Why gunicorn cannot listen on ``address``, or ``None``; read as gunicorn reads it
    (``gunicorn.util.parse_address``), and a host name is looked up."""
    if address.startswith("unix:"):
        return None if address[5:].lstrip("/") else "must name a socket file after 'unix:'"
    if address.startswith("fd://"):
        return None if address[5:].isdigit() else "must be fd:// and a file descriptor number"
    address = address.removeprefix("tcp://")
    if address.startswith("["):
        host, bracket, port = address[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return "must be HOST:PORT, or [IPv6 address]:PORT"
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"must have an IPv6 address in brackets, not {host!r}"
        return _port_problem(port[1:] if port else "8000") or _host_problem(host)
    if address.count(":") > 1:
        return "must write an IPv6 address in brackets, as [::1]:5000"
    host, colon, port = address.partition(":")
    # An empty host is every interface, as in gunicorn.
    return _port_problem(port if colon else "8000") or (host and _host_problem(host)) or None


def _port_problem(port: str) -> str | None:
    if not (port.isascii() and port.isdigit() and int(port) <= MAX_PORT):
        return f"must have a port number from 0 to {MAX_PORT}"
    return None


def _host_problem(host: str) -> str | None:
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return f"names a host that cannot be looked up ({host!r}: {exc})"
    return None
