"""Fail loudly if anything in the test process tries to resolve a host that is not loopback.

The simulator must stand in for ``voice.africastalking.com`` completely: a test that would
reach the real AT (or any other host) is a bug, so name resolution outside loopback raises.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class NonLoopbackConnection(RuntimeError):
    """Raised when test code tries to leave loopback."""


def is_loopback_host(host: object) -> bool:
    """True for ``localhost`` names, loopback IP literals, and the unspecified address."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").lower()
    if text in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _guarded(original: Callable[..., Any]) -> Callable[..., Any]:
    def getaddrinfo(host: object, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback_host(host):
            raise NonLoopbackConnection(
                f"test tried to resolve {host!r}: tests must stay on loopback (127.0.0.1)"
            )
        return original(host, *args, **kwargs)

    return getaddrinfo


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    original = socket.getaddrinfo
    socket.getaddrinfo = _guarded(original)  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = original  # type: ignore[assignment]
