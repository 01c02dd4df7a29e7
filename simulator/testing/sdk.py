"""The official ``africastalking`` SDK, pointed at the simulator and kept off the real AT.

The SDK has no host option: each service keeps its base URL in ``_baseUrl``, set when
``africastalking.initialize`` builds it. :func:`sdk_pointed_at` initialises the SDK and makes
every Voice service built meanwhile (an app that calls ``initialize`` itself, too) use the
simulator. :func:`real_africastalking_blocked` makes any attempt to reach
``*.africastalking.com``, and any SDK request leaving loopback, fail loudly.
"""

from __future__ import annotations

import ipaddress
import socket
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

AT_DOMAIN = "africastalking.com"
SDK_USER_AGENT_PREFIX = "africastalking-python"
_SDK_SERVICES = (
    "SMS",
    "Airtime",
    "Voice",
    "Application",
    "Token",
    "MobileData",
    "Insights",
    "Whatsapp",
)


class RealAfricasTalkingBlocked(RuntimeError):
    """Code under test tried to reach the real Africa's Talking (or the SDK left loopback)."""


def is_africastalking_host(host: str) -> bool:
    """Whether ``host`` is AT's domain or one of its subdomains."""
    name = host.lower().rstrip(".")
    return name == AT_DOMAIN or name.endswith("." + AT_DOMAIN)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost`` or a loopback address)."""
    name = host.lower().strip("[]")
    if name in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@contextmanager
def sdk_pointed_at(base_url: str, username: str, api_key: str) -> Iterator[None]:
    """Initialise ``africastalking`` with ``username``/``api_key`` and aim Voice at
    ``base_url``; on exit the SDK's services are restored to what they were."""
    import africastalking
    from africastalking.Voice import VoiceService

    saved_services = {name: getattr(africastalking, name, None) for name in _SDK_SERVICES}
    original_init = VoiceService._init_service

    def init_service(self: Any) -> None:
        original_init(self)
        self._baseUrl = base_url

    VoiceService._init_service = init_service
    try:
        with warnings.catch_warnings():
            # initialize() builds every service; with the username "sandbox" the WhatsApp one
            # warns that AT has no sandbox for it, which says nothing about voice.
            warnings.filterwarnings("ignore", "Sandbox is currently not available", UserWarning)
            africastalking.initialize(username, api_key)
        africastalking.Voice._baseUrl = base_url
        yield
    finally:
        VoiceService._init_service = original_init
        for name, service in saved_services.items():
            setattr(africastalking, name, service)


@contextmanager
def real_africastalking_blocked(violations: list[str]) -> Iterator[None]:
    """Refuse, for the duration, every request to ``*.africastalking.com`` and every request
    of the SDK (known by its User-Agent) that leaves loopback.

    Each refusal raises :class:`RealAfricasTalkingBlocked` and is appended to ``violations``,
    so a caller can fail the test even if the code under test swallowed the exception.
    Guarded at two levels: ``requests``' transport adapter (what the SDK uses) and name
    resolution (any other HTTP client).
    """
    from requests.adapters import HTTPAdapter

    original_send = HTTPAdapter.send
    original_getaddrinfo = socket.getaddrinfo

    def refuse(message: str) -> RealAfricasTalkingBlocked:
        violations.append(message)
        return RealAfricasTalkingBlocked(message)

    def send(self: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        host = urlsplit(str(request.url)).hostname or ""
        agent = str(request.headers.get("User-Agent", ""))
        if is_africastalking_host(host):
            raise refuse(f"blocked a request to the real Africa's Talking: {request.url}")
        if agent.startswith(SDK_USER_AGENT_PREFIX) and not is_loopback_host(host):
            raise refuse(f"blocked an africastalking SDK request leaving loopback: {request.url}")
        return original_send(self, request, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host or "")
        if is_africastalking_host(name):
            raise refuse(f"blocked resolving the real Africa's Talking host {name}")
        return original_getaddrinfo(host, *args, **kwargs)

    HTTPAdapter.send = send  # type: ignore[method-assign]
    socket.getaddrinfo = _typed(getaddrinfo)
    try:
        yield
    finally:
        HTTPAdapter.send = original_send  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo


def _typed(function: Callable[..., Any]) -> Any:
    """Let a wrapper stand in for ``socket.getaddrinfo`` (its typeshed signature is exact)."""
    return function
