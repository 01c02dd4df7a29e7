"""Serving on real sockets: the listening socket, URLs, and the threaded server's life."""

from __future__ import annotations

import socket

import httpx
import pytest

from at_voice_kit.simulator.backend.platform_config import SimulatorConfig
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.serving.server import (
    ThreadedSimulator,
    bind_socket,
    is_loopback,
    url_of,
)


def test_the_listening_socket_is_tcp_so_answers_are_not_delayed_by_nagle() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        # asyncio turns TCP_NODELAY on for accepted connections only when proto says TCP.
        assert sock.proto == socket.IPPROTO_TCP
        assert url_of(sock) == f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_which_hosts_keep_the_simulator_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_threaded_server_shares_the_backend_and_stops() -> None:
    backend = VoiceBackend(SimulatorConfig(seed=3))
    with ThreadedSimulator(backend) as server:
        response = httpx.post(
            f"{server.url}/call",
            data={"username": "sandbox", "from": "+254711082000", "to": "+254711082001"},
            headers={"apiKey": "atsim-sandbox-key"},
            timeout=10,
        )
        assert response.json()["entries"][0]["sessionId"] == backend.calls.all()[0].session_id
        url = server.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_simulator/health", timeout=2)
