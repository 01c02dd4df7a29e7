"""Serving the simulator on a real socket with uvicorn: in the foreground for ``atsim serve``,
or in a background thread sharing state with the caller (the pytest plugin, like moto's
``ThreadedMotoServer``)."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn

from at_voice_kit.contracts.bounded_http import BoundedReadProtocol
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.network import SimulatedNetwork
from at_voice_kit.simulator.serving.app import close_streams, create_app

START_TIMEOUT_SECONDS = 10.0
GRACEFUL_SHUTDOWN_SECONDS = 5


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: the system picks a free one)."""
    family = socket.AF_INET6 if _is_ipv6(host) else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only then, and
    # without it Nagle's algorithm and delayed ACKs add ~40 ms to every keep-alive answer.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        return False


def url_of(sock: socket.socket) -> str:
    """The base URL a client uses to reach a socket bound by :func:`bind_socket`."""
    host, port = sock.getsockname()[:2]
    if ipaddress.ip_address(host).is_unspecified:
        # Bound to every interface: loopback reaches it from this machine.
        host = "::1" if ":" in host else "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the simulator reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def uvicorn_config(app: Any, *, log_level: str = "info", access_log: bool = True) -> uvicorn.Config:
    """The uvicorn settings both ways of serving share: the HTTP protocol the service runs
    too (``contracts/bounded_http.py``), so a client that sends a request slowly, or not at
    all, is cut off after 10 s instead of holding a socket for ever."""
    return uvicorn.Config(
        app,
        http=BoundedReadProtocol,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
    )


class SimulatorServer(uvicorn.Server):
    """uvicorn's server, ending the simulator's live streams (the feed, the dev phones) as it
    starts to shut down: a graceful shutdown waits for every open response, and a stream
    never ends by itself."""

    def __init__(self, config: uvicorn.Config, backend: VoiceBackend) -> None:
        super().__init__(config)
        self._backend = backend

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Close the streams, then shut down as uvicorn does."""
        close_streams(self._backend)
        await super().shutdown(sockets)


def serve_forever(
    backend: VoiceBackend,
    sock: socket.socket,
    on_started: Callable[[], None] = lambda: None,
    *,
    access_log: bool = False,
    background: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """Serve on an already bound socket until SIGINT/SIGTERM, then return normally.

    ``on_started`` runs once the server accepts connections (``atsim serve`` prints its
    banner then, so whoever waits for it can rely on it). uvicorn shuts down gracefully on
    either signal, then re-raises it under the handler installed before it started; that
    handler only notes the request, so a requested stop is a clean exit (status 0) and a
    signal arriving before uvicorn took over still stops the server once it is up.

    ``access_log`` turns uvicorn's line per HTTP request on; ``background`` is a coroutine
    run on the server's loop while it serves (``atsim serve``'s log of calls).
    """
    config = uvicorn_config(create_app(backend=backend), access_log=access_log)
    server = SimulatorServer(config, backend)
    stop_requested = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda signum, frame: stop_requested.set())

    async def announce_when_started() -> None:
        while not server.started and not server.should_exit:
            await asyncio.sleep(0.01)
        if stop_requested.is_set():
            server.should_exit = True
        elif server.started:
            on_started()

    async def main() -> None:
        announcer = asyncio.create_task(announce_when_started())
        logger = asyncio.create_task(background()) if background is not None else None
        try:
            await server.serve(sockets=[sock])
        finally:
            announcer.cancel()
            if logger is not None:
                logger.cancel()

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(main())


class ThreadedSimulator:
    """The simulator on a loopback socket, served from a daemon thread.

    The app is built on ``backend``, so the thread serving HTTP and the caller see one state.
    Use as a context manager, or :meth:`start` and :meth:`stop`.
    """

    def __init__(self, backend: VoiceBackend, host: str = "127.0.0.1", port: int = 0) -> None:
        self.backend = backend
        self._host = host
        self._port = port
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> None:
        """Bind, start serving, and return once the server accepts connections."""
        sock = bind_socket(self._host, self._port)
        self.url = url_of(sock)
        if isinstance(self.backend.launcher, SimulatedNetwork):
            self.backend.launcher.set_public_url(self.url)
        config = uvicorn_config(
            create_app(backend=self.backend), log_level="warning", access_log=False
        )
        # A request still running at stop (a long wait for a call, say) must not hold the
        # thread past stop()'s join.
        config.timeout_graceful_shutdown = GRACEFUL_SHUTDOWN_SECONDS
        self._server = SimulatorServer(config, self.backend)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name="atsim-server",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.stop()
            sock.close()
            raise RuntimeError("the simulator did not start serving in time")

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT_SECONDS)
        self._server = None
        self._thread = None

    def __enter__(self) -> ThreadedSimulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
