"""A webhook a stale kept-alive connection kept from the app is sent once more, on a new one.

Webhooks go out over pooled connections. A server may close a kept-alive connection at any
moment (an app answering 500 and then closing it, an idle timeout), and a request sent on it
just before the close arrives never reaches the app: the connection is closed (reset, or at
its end) before a single byte of an answer. Under ``--speed fast`` the next webhook follows
the last answer at once, and 7 of 20 calls to such an app were journaled as "no answer":
the platform blamed the app for its own connection pool.

So, as HTTP clients do with a stale pooled connection, such a request is sent once more, on a
connection of its own, within the same deadline. Only then: a request on a connection opened
for it, or one whose answer had begun (a status line came back), or one that timed out, did
reach the app and is never sent twice. What tells them apart is httpx's ``trace`` extension:
whether the request opened a connection, and whether the answer's headers arrived.

One case stays ambiguous on the wire: an app that reads a request on a kept-alive connection
and closes it without answering a byte looks exactly like a stale connection, and gets the
request once more (as OkHttp's default retry does). No server does that short of a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

NEVER_ANSWERED = "without sending a response"
"""How httpcore says a connection ended before any byte of the answer (its
``RemoteProtocolError``: "Server disconnected without sending a response.")."""


class ConnectionTrace:
    """Follows one request through httpx's ``trace`` extension (pass it as
    ``extensions={"trace": trace}``): did it open a connection, did its answer begin."""

    def __init__(self) -> None:
        self.opened_connection = False
        self.sent = False
        self.answer_began = False

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback (``connection.connect_tcp.started``, ...)."""
        if event.startswith("connection.connect_tcp."):
            self.opened_connection = True
        elif event == "http11.send_request_headers.started":
            self.sent = True
        elif event == "http11.receive_response_headers.complete":
            self.answer_began = True

    def never_reached_the_app(self, exc: Exception) -> bool:
        """True when ``exc`` ended the request on a reused connection before any answer:
        the connection was stale, and the app never saw the request."""
        if not self.sent or self.opened_connection or self.answer_began:
            return False
        if isinstance(exc, httpx.RemoteProtocolError):
            return NEVER_ANSWERED in str(exc)
        return isinstance(exc, httpx.ReadError | httpx.WriteError)


class FreshConnectionRetry:
    """Sends through the pooled ``client``; a request a stale connection kept from the app is
    sent once more through a client that keeps no connection (so it opens a new one)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._fresh: httpx.AsyncClient | None = None

    async def send(
        self, exchange: Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[T]]
    ) -> T:
        """``exchange(client, extensions)``, once more on a new connection if a stale one
        kept the request from the app; any other outcome is ``exchange``'s own."""
        trace = ConnectionTrace()
        try:
            return await exchange(self.client, {"trace": trace})
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
            if not trace.never_reached_the_app(exc):
                raise
        return await exchange(self._fresh_client(), {})

    def _fresh_client(self) -> httpx.AsyncClient:
        if self._fresh is None:
            self._fresh = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=self.client.trust_env,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self._fresh

    async def aclose(self) -> None:
        """Close the client of fresh connections, if one was made (not ``client``)."""
        if self._fresh is not None:
            await self._fresh.aclose()
