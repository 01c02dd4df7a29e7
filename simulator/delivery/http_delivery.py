"""Webhook delivery over real HTTP with ``httpx.AsyncClient``: what AT's platform does.

Each request is a form-encoded POST. AT waits ``timeout`` seconds (default 10) for an answer:
that is a deadline for the whole exchange (connecting, sending, the status line, headers and
body), not only for each read, so an app that trickles its answer a byte at a time cannot
hold a call (or, under ``--speed fast``, the virtual clock of every call) for longer.
Redirects are not followed (a 3xx is not an answer AT can use: the call ends like on any
non-2xx). Bodies are read up to ``max_body_bytes`` once unpacked; beyond that the answer is
refused unread (:mod:`at_voice_kit.simulator.delivery.answer_body`). A request a stale
kept-alive connection kept from the app is sent once more on a new connection
(:mod:`at_voice_kit.simulator.delivery.fresh_connection`). Faults of any kind are reported in
the :class:`~at_voice_kit.simulator.engine.ports.WebhookResult`, never raised.
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType
from typing import Any

import httpx

from at_voice_kit.contracts.redaction import masked_url
from at_voice_kit.simulator.delivery.answer_body import (
    ACCEPT_ENCODING,
    UnreadableBody,
    read_answer_body,
)
from at_voice_kit.simulator.delivery.fresh_connection import FreshConnectionRetry
from at_voice_kit.simulator.engine.options import DEFAULT_WEBHOOK_TIMEOUT
from at_voice_kit.simulator.engine.ports import WebhookRequest, WebhookResult
from at_voice_kit.simulator.engine.previews import preview

log = logging.getLogger(__name__)

USER_AGENT = "atsim (Africa's Talking Voice simulator)"
FORM = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 1_000_000
MAX_CONCURRENT_WEBHOOKS = 500
"""Webhooks in flight at once (one connection each); further ones wait for a free slot
before their deadline starts. The bound is also what keeps the connection pool fast: httpx's
pool does work in proportion to its queued requests times its connections on every request,
so letting thousands of webhooks queue inside it stalls the event loop."""
MAX_KEEPALIVE_CONNECTIONS = 20


class HttpxWebhookDelivery:
    """Delivers webhooks with one shared ``httpx.AsyncClient`` (connection pooling)."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float = DEFAULT_WEBHOOK_TIMEOUT,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_concurrent: int = MAX_CONCURRENT_WEBHOOKS,
    ) -> None:
        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=max_concurrent,
                max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
            ),
        )
        self._slots = asyncio.Semaphore(max_concurrent)
        self._retry = FreshConnectionRetry(self._client)

    async def deliver(self, request: WebhookRequest) -> WebhookResult:
        """POST the request's form; report status and body, or the fault.

        The deadline starts once a slot is free: waiting behind other webhooks is the
        platform's time, not the app's.
        """
        async with self._slots:
            return await self._deliver(request)

    async def _deliver(self, request: WebhookRequest) -> WebhookResult:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                return await self._retry.send(
                    lambda client, extensions: self._exchange(client, extensions, request, started)
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            error = f"no answer within {self.timeout:g} s ({type(exc).__name__})"
            return WebhookResult(None, "", time.perf_counter() - started, error, timed_out=True)
        except httpx.HTTPError as exc:
            return WebhookResult(None, "", time.perf_counter() - started, _describe(exc))
        except Exception as exc:  # an app's bytes must never crash a call: journal it instead
            # The URL's query is masked: apps put their secrets there, logs keep them.
            url = masked_url(request.url)
            log.warning("webhook to %s failed unexpectedly", url, exc_info=True)
            return WebhookResult(None, "", time.perf_counter() - started, _describe(exc))

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        extensions: dict[str, Any],
        request: WebhookRequest,
        started: float,
    ) -> WebhookResult:
        headers = {
            "Content-Type": FORM,
            "Accept": "*/*",
            "Accept-Encoding": ACCEPT_ENCODING,
            "User-Agent": USER_AGENT,
        }
        async with client.stream(
            "POST", request.url, content=request.body(), headers=headers,
            timeout=self.timeout, follow_redirects=False, extensions=extensions,
        ) as response:  # fmt: skip
            status = response.status_code
            try:
                answer = await read_answer_body(response, self.max_body_bytes)
            except UnreadableBody as exc:
                return WebhookResult(status, "", time.perf_counter() - started, str(exc))
            except httpx.TimeoutException:
                raise  # reported as a timeout, like any other
            except (httpx.TransportError, httpx.DecodingError) as exc:  # cut off mid-body
                return WebhookResult(status, "", time.perf_counter() - started, _describe(exc))
        elapsed = time.perf_counter() - started
        if answer.too_large:
            error = f"the answer is over {self.max_body_bytes} bytes (not read further)"
            start = preview(answer.text)  # only shown, never parsed: its start is enough
            return WebhookResult(
                status, start.text, elapsed, error, too_large=True, body_size=start.size
            )
        return WebhookResult(status, answer.text, elapsed)

    async def aclose(self) -> None:
        """Close the client if this object created it (and the one for fresh connections)."""
        await self._retry.aclose()
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> HttpxWebhookDelivery:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
