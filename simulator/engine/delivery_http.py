"""Webhook delivery over real HTTP with ``httpx.AsyncClient``: what AT's platform does.

Each request is a form-encoded POST. AT waits ``timeout`` seconds (default 10) for an answer;
redirects are not followed (a 3xx is not an answer AT can use: the call ends like on any
non-2xx); bodies are read up to ``max_body_bytes``. Network faults are reported in the
:class:`~simulator.engine.ports.WebhookResult`, never raised.
"""

from __future__ import annotations

import time
from types import TracebackType

import httpx

from simulator.engine.options import DEFAULT_WEBHOOK_TIMEOUT
from simulator.engine.ports import WebhookRequest, WebhookResult

USER_AGENT = "atsim (Africa's Talking Voice simulator)"
FORM = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 1_000_000


class HttpxWebhookDelivery:
    """Delivers webhooks with one shared ``httpx.AsyncClient`` (connection pooling)."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float = DEFAULT_WEBHOOK_TIMEOUT,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
        )

    async def deliver(self, request: WebhookRequest) -> WebhookResult:
        """POST the request's form; report status and body, or the fault."""
        started = time.perf_counter()
        headers = {"Content-Type": FORM, "Accept": "*/*", "User-Agent": USER_AGENT}
        try:
            async with self._client.stream(
                "POST", request.url, content=request.body(), headers=headers,
                timeout=self.timeout, follow_redirects=False,
            ) as response:  # fmt: skip
                body = await self._read(response)
                status = response.status_code
        except httpx.TimeoutException as exc:
            error = f"no answer within {self.timeout:g} s ({type(exc).__name__})"
            return WebhookResult(None, "", time.perf_counter() - started, error, timed_out=True)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return WebhookResult(None, "", time.perf_counter() - started, error)
        return WebhookResult(status, body, time.perf_counter() - started)

    async def _read(self, response: httpx.Response) -> str:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.max_body_bytes:
                break
        raw = b"".join(chunks)[: self.max_body_bytes]
        return raw.decode(response.encoding or "utf-8", errors="replace")

    async def aclose(self) -> None:
        """Close the client if this object created it."""
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
