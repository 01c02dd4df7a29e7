"""Slow clients against a real ``atsim serve``: it runs the service's HTTP protocol
(``contracts/bounded_http.py``), so a connection that sends nothing, or a request a byte at a
time, is cut off after 10 s instead of holding its socket for ever; and a ``/call`` whose body
is cut short places no call. Bounded: 30 sockets, a byte every 0.5 s, 20 s in all."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from at_voice_kit.contracts.bounded_http import DEFAULT_READ_TIMEOUT_SECONDS
from tests.e2e.test_slow_clients import SlowClient
from tests.simulator.atsim_process import atsim_serve

pytestmark = pytest.mark.e2e

CLOSED_WITHIN_SECONDS = DEFAULT_READ_TIMEOUT_SECONDS + 5


def test_slow_clients_are_cut_off_and_health_keeps_answering() -> None:
    clients = [
        client
        for n in range(10)
        for client in (
            SlowClient(f"silent {n}", b"", b""),
            SlowClient(f"head {n}", b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: a"),
            SlowClient(
                f"body {n}",
                b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 300\r\n\r\n",
                b"username=sandbox&",
            ),
        )
    ]
    with atsim_serve() as atsim, httpx.Client(base_url=atsim.url, timeout=5) as admin:
        port = int(atsim.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 20
        threads = [
            threading.Thread(target=client.run, args=(port, deadline), daemon=True)
            for client in clients
        ]
        for thread in threads:
            thread.start()
        statuses = []
        while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
            statuses.append(admin.get("/_simulator/health").status_code)
            time.sleep(0.5)
        for thread in threads:
            thread.join(timeout=30)
    assert statuses and set(statuses) == {200}
    held = {client.name: round(client.held_seconds, 1) for client in clients}
    assert max(held.values()) <= CLOSED_WITHIN_SECONDS, held
    assert all(client.answer.startswith(b"HTTP/1.1 408 ") for client in clients), held


def test_a_call_whose_body_is_cut_short_places_no_call() -> None:
    form = b"username=sandbox&from=%2B254711082000&to=%2B254711082001%2C%2B254711082002"
    with atsim_serve() as atsim, httpx.Client(base_url=atsim.url, timeout=5) as admin:
        port = int(atsim.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\napiKey: atsim-sandbox-key\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(form) + 40}\r\n\r\n".encode()
                + form
            )
            sock.shutdown(socket.SHUT_WR)  # the client goes away mid-body
            sock.settimeout(5)
            while sock.recv(4096):
                pass
        time.sleep(0.5)
        assert admin.get("/_simulator/calls").json()["calls"] == []
        (request,) = admin.get("/_simulator/requests").json()["requests"]
    assert (request["path"], request["status"]) == ("/call", 400), request
