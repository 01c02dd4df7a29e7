"""Slow clients (slowloris) against the real service under gunicorn, on loopback.

A hundred connections hold the service the way an attacker would: some send nothing, some
a request line and headers a byte at a time, some whole headers and then a body a byte at a
time. Under the threaded workers the service had before, one connection with a partial body
stayed open over 130 s and 50 to 100 of them made ``GET /voice/`` fail. Now every request
must arrive whole within ``VOICE_READ_TIMEOUT`` seconds (2 here), so readiness answers
throughout, each slow connection is closed within the bound (with a 408 where nothing was
answered yet), and nothing a slow body carried is stored. Bounded: 100 sockets, a byte
every 0.5 s each, at most 20 s in all.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.e2e.processes import (
    RunningProcess,
    free_port,
    gunicorn_argv,
    running,
    service_environment,
)

pytestmark = pytest.mark.e2e

READ_TIMEOUT_SECONDS = 2
DRIP_SECONDS = 0.5
SLOW_SOCKETS_OF_EACH_KIND = 34
CLOSED_WITHIN_SECONDS = READ_TIMEOUT_SECONDS + 4
"""The bound, plus slack for a loaded machine; the service used to keep them for minutes."""
SESSION_PREFIX = "ATVId_slowloris"


@dataclass
class SlowClient:
    """One connection that sends ``prefix`` at once and then ``drip`` a byte at a time."""

    name: str
    prefix: bytes
    drip: bytes
    opened: float = 0.0
    closed: float = 0.0
    answer: bytes = b""

    def run(self, port: int, deadline: float) -> None:
        """Connect, send, drip until the service closes the connection or ``deadline``."""
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            self.opened = time.monotonic()
            sock.sendall(self.prefix)
            sock.settimeout(DRIP_SECONDS)
            position = 0
            while time.monotonic() < deadline:
                try:
                    data = sock.recv(4096)
                except TimeoutError:
                    if not self.drip:  # a silent connection: it only holds its socket
                        continue
                    try:
                        sock.sendall(self.drip[position % len(self.drip) :][:1])
                    except OSError:  # reset: closed by the service
                        self.closed = time.monotonic()
                        return
                    position += 1
                    continue
                except OSError:
                    self.closed = time.monotonic()
                    return
                if not data:
                    self.closed = time.monotonic()
                    return
                self.answer += data

    @property
    def held_seconds(self) -> float:
        """How long the service kept the connection (forever, if it never closed it)."""
        return self.closed - self.opened if self.closed else float("inf")


def slow_clients() -> list[SlowClient]:
    """Silent connections, a request head dripped, and a body dripped after whole headers."""
    body = f"sessionId={SESSION_PREFIX}{{n}}&eventType=SessionRinging&callSessionState=Ringing"
    clients = []
    for n in range(SLOW_SOCKETS_OF_EACH_KIND):
        clients.append(SlowClient(f"silent {n}", b"", b""))
        clients.append(
            SlowClient(
                f"head {n}",
                b"POST /voice/events HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                b"X-Slow: " + b"a" * 200,
            )
        )
        # A whole, valid form at once, then the rest of the declared length a byte at a time:
        # cut off, what arrived must not be stored as if it were the request.
        form = body.format(n=n).encode()
        clients.append(
            SlowClient(
                f"body {n}",
                b"POST /voice/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(form) + 500}\r\n\r\n".encode()
                + form,
                b"&pad=" + b"a" * 100,
            )
        )
    return clients


def probe_readiness(url: str, until: float, failures: list[str], answered: list[float]) -> None:
    """Ask ``GET /voice/`` on a fresh connection every 0.2 s until ``until``."""
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            status = requests.get(
                f"{url}/voice/", timeout=5, headers={"Connection": "close"}
            ).status_code
        except requests.RequestException as exc:
            failures.append(f"{exc.__class__.__name__}: {exc}")
        else:
            if status != 200:
                failures.append(f"HTTP {status}")
            answered.append(time.monotonic() - started)
        time.sleep(0.2)


def test_slow_clients_are_cut_off_and_readiness_keeps_answering(tmp_path: Path) -> None:
    port = free_port()
    database_url = f"sqlite:///{tmp_path / 'voice.db'}"
    environment = service_environment(
        database_url, VOICE_READ_TIMEOUT=str(READ_TIMEOUT_SECONDS), VOICE_WORKERS="2"
    )
    with running(
        gunicorn_argv(port),
        env=environment,
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "gunicorn.log",
    ) as service:
        clients = slow_clients()
        deadline = time.monotonic() + 20
        threads = [
            threading.Thread(target=client.run, args=(port, deadline), daemon=True)
            for client in clients
        ]
        for thread in threads:
            thread.start()
        failures: list[str] = []
        answered: list[float] = []
        probe_readiness(service.url, time.monotonic() + CLOSED_WITHIN_SECONDS, failures, answered)
        for thread in threads:
            thread.join(timeout=30)
        assert_cut_off(clients, service)
    assert failures == [], failures
    assert len(answered) >= 10 and max(answered) < 2.0, answered
    assert stored_slow_events(database_url) == 0


def stored_slow_events(database_url: str) -> int:
    """Events the slow bodies carried that were stored (a body cut short must store nothing)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT count(*) FROM call_events WHERE session_id LIKE :prefix"),
                    {"prefix": f"{SESSION_PREFIX}%"},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def assert_cut_off(clients: list[SlowClient], service: RunningProcess) -> None:
    """Every slow connection was closed within the bound; those that got no answer first
    were told 408."""
    held = {client.name: round(client.held_seconds, 1) for client in clients}
    too_long = {name: seconds for name, seconds in held.items() if seconds > CLOSED_WITHIN_SECONDS}
    assert not too_long, (too_long, service.log()[-2000:])
    assert min(held.values()) >= READ_TIMEOUT_SECONDS - 0.5, held
    for client in clients:
        assert client.answer.startswith(b"HTTP/1.1 408 "), (client.name, client.answer[:200])
