"""Reaching the app under test: over HTTP, or in-process through httpx's WSGI/ASGI transports.

A :class:`Target` names the app's callback URL and events URL, and optionally the in-process
app object. :func:`open_client` gives the one ``httpx.AsyncClient`` every scenario shares;
:class:`Poster` sends one form POST with AT's headers and timeout and turns whatever happens
into an :class:`~at_voice_kit.simulator.verify.exchanges.Answer` (it never raises: a request it
could not send is an answer without a status, which the report shows as a failure).

In-process apps are served the way a server would: a WSGI app runs in a worker thread (so a
slow app cannot stall the other scenarios, and AT's timeout still applies), an exception it
raises becomes an HTTP 500, as gunicorn would answer. An ASGI app runs on the event loop
(httpx's ``ASGITransport``); its lifespan events are not sent.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import traceback
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from at_voice_kit.contracts.redaction import masked_url
from at_voice_kit.contracts.urls import http_url_problem, with_path
from at_voice_kit.simulator.delivery.answer_body import ACCEPT_ENCODING, read_answer_body
from at_voice_kit.simulator.delivery.fresh_connection import FreshConnectionRetry
from at_voice_kit.simulator.delivery.http_delivery import USER_AGENT
from at_voice_kit.simulator.verify.exchanges import FORM_CONTENT_TYPE, Answer, SentRequest

IN_PROCESS_ORIGIN = "http://testserver"
"""The scheme and host in-process apps are addressed by (and see in their Host header)."""
MAX_BODY_BYTES = 1_000_000
INVALID_URL = "InvalidURL"
"""How the error of a request to a URL no client can send to starts (the report groups by it)."""
CALLBACK_PATH = "/instruct"
EVENTS_PATH = "/events"


class InvalidTarget(ValueError):
    """A target that cannot be verified; the message says which URL and why."""


@dataclass(frozen=True, slots=True)
class Target:
    """The app under test: its callback URL, its events URL (optional), and the app object
    when it runs in-process (``None``: reached over HTTP)."""

    callback_url: str
    events_url: str | None = None
    app: Any = None

    def __post_init__(self) -> None:
        check_url("callback URL", self.callback_url)
        if self.events_url is not None:
            check_url("events URL", self.events_url)

    @classmethod
    def from_base_url(cls, base_url: str, *, events: bool = True, app: Any = None) -> Target:
        """A service laid out like ours: ``BASE/instruct`` and ``BASE/events`` (a query
        string of the base URL, often the app's secret, stays on both)."""
        check_url("base URL", base_url)
        events_url = with_path(base_url, EVENTS_PATH) if events else None
        return cls(with_path(base_url, CALLBACK_PATH), events_url, app)

    @classmethod
    def in_process(
        cls,
        app: Any,
        base_path: str = "",
        *,
        callback_url: str | None = None,
        events_url: str | None = None,
        events: bool = True,
    ) -> Target:
        """An in-process WSGI or ASGI app; URLs may be paths (``/voice/instruct``)."""
        if not callable(app):
            raise InvalidTarget("the app must be a WSGI or ASGI application (a callable)")
        if callback_url is None:
            base_url = with_path(IN_PROCESS_ORIGIN, base_path)
            return cls.from_base_url(base_url, events=events, app=app)
        callback = urljoin(IN_PROCESS_ORIGIN + "/", callback_url)
        event_url = urljoin(IN_PROCESS_ORIGIN + "/", events_url) if events_url else None
        return cls(callback, event_url, app)

    @property
    def is_in_process(self) -> bool:
        """True when the app is called in-process rather than over the network."""
        return self.app is not None

    def describe(self) -> str:
        """One line naming the URLs, secrets masked (and the app, when in-process)."""
        text = f"callback URL {masked_url(self.callback_url)}"
        text += (
            f", events URL {masked_url(self.events_url)}" if self.events_url else ", no events URL"
        )
        if self.app is not None:
            text += f" (in-process {'ASGI' if is_asgi(self.app) else 'WSGI'} app)"
        return text


def check_url(what: str, url: str) -> None:
    """Raise InvalidTarget unless ``url`` is an absolute http(s) URL a request can be sent to
    (a host, a port from 1 to 65535): checked here, so nothing later trips on it."""
    problem = http_url_problem(url)
    if problem is not None:
        # Masked: the message ends up in CI logs and test output, the URL's shape is enough.
        raise InvalidTarget(f"the {what} {problem}, not {masked_url(url)!r}")


def is_asgi(app: Any) -> bool:
    """True for an ASGI app (a coroutine function, or an object whose ``__call__`` is one)."""
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(
        getattr(app, "__call__", None)  # noqa: B004 - the method itself is what is inspected
    )


class AsyncWSGITransport(httpx.AsyncBaseTransport):
    """httpx's WSGI transport run in worker threads, so an async client can call a WSGI app.

    Exceptions the app raises become an HTTP 500 with the exception in the body, which is
    what a WSGI server answers.
    """

    def __init__(self, app: Any, executor: ThreadPoolExecutor) -> None:
        self._transport = httpx.WSGITransport(app=app, raise_app_exceptions=False)
        self._executor = executor

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app for one request in a worker thread."""
        content = await request.aread()
        sync_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=content
        )
        loop = asyncio.get_running_loop()
        status, headers, body = await loop.run_in_executor(
            self._executor, self._call_app, sync_request
        )
        # A stream, not ``content=``: the body is read like a network answer's (bounded,
        # unpacked as its Content-Encoding says), and httpx has not consumed it already.
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))

    def _call_app(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        try:
            response = self._transport.handle_request(request)
            body = response.read()
        except Exception as exc:  # the app crashed: a WSGI server answers 500
            text = "".join(traceback.format_exception_only(exc)).strip()
            message = f"Internal Server Error (the app raised {text})"
            return 500, [(b"content-type", b"text/plain")], message.encode("utf-8", "replace")
        headers = [
            (key, value)
            for key, value in response.headers.raw
            if key.lower() not in (b"content-length", b"transfer-encoding")
        ]
        return response.status_code, headers, body


@asynccontextmanager
async def open_client(target: Target, *, concurrency: int) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client every scenario shares, wired to the target's transport."""
    executor: ThreadPoolExecutor | None = None
    transport: httpx.AsyncBaseTransport | None = None
    if target.app is not None:
        if is_asgi(target.app):
            transport = httpx.ASGITransport(app=target.app, raise_app_exceptions=False)
        else:
            # Room for threads still stuck in a slow app after their request timed out.
            executor = ThreadPoolExecutor(concurrency * 4, thread_name_prefix="atsim-verify-wsgi")
            transport = AsyncWSGITransport(target.app, executor)
    client = httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,  # AT does not follow redirects: a 3xx is a failed answer
        trust_env=False,  # no proxies from the environment between verify and the app
        limits=httpx.Limits(max_connections=concurrency * 4, max_keepalive_connections=concurrency),
    )
    try:
        yield client
    finally:
        await client.aclose()
        if executor is not None:
            # A thread stuck in a slow app is not waited for: its answer is already too late.
            executor.shutdown(wait=False, cancel_futures=True)


class Poster:
    """Sends one webhook as AT does (form POST, AT's timeout) and reports what came back;
    a request a stale kept-alive connection kept from the app is sent once more on a new
    connection, as the simulator's delivery does (``async with`` closes that client)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.retry = FreshConnectionRetry(client)
        self.timeout = timeout
        self.headers = {
            "Content-Type": FORM_CONTENT_TYPE,
            "Accept": "*/*",
            "Accept-Encoding": ACCEPT_ENCODING,
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }

    async def __aenter__(self) -> Poster:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.retry.aclose()

    async def post(self, request: SentRequest) -> Answer:
        """POST ``request``; never raises (short of cancellation): a request that could not be
        sent or answered is an :class:`Answer` without a status, saying why.

        The recorder keeps the exchange only once this returns, and the engine swallows
        whatever its delivery port raises, so a raise here would make the request vanish from
        the report: an app whose Redirect names port 99999 would pass.
        """
        started = time.perf_counter()
        try:
            problem = http_url_problem(request.url)
            if problem is not None:  # an app's Redirect or callbackUrl AT could never reach
                return Answer(None, error=f"{INVALID_URL}: the URL {problem}")
            async with asyncio.timeout(self.timeout):
                status, content_type, body = await self.retry.send(
                    lambda client, extensions: self._exchange(client, extensions, request)
                )
        except (TimeoutError, httpx.TimeoutException):
            error = f"no answer within {self.timeout:g} s"
            return Answer(None, elapsed=time.perf_counter() - started, error=error, timed_out=True)
        except Exception as exc:
            # Network faults (httpx.HTTPError, OSError), an unreadable body, and whatever else
            # the HTTP stack raises (an h11 protocol error, an encoding error, an
            # ExceptionGroup from connecting): the request got no answer either way.
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Answer(None, elapsed=time.perf_counter() - started, error=error)
        return Answer(status, body, content_type, time.perf_counter() - started)

    async def _exchange(
        self, client: httpx.AsyncClient, extensions: dict[str, Any], request: SentRequest
    ) -> tuple[int, str | None, str]:
        async with client.stream(
            "POST", request.url, content=request.body(), headers=self.headers,
            extensions=extensions,
        ) as response:  # fmt: skip
            # Bounded (a gzip bomb included) and lenient about charsets, as the engine reads.
            body = (await read_answer_body(response, MAX_BODY_BYTES)).text
            return response.status_code, response.headers.get("content-type"), body
