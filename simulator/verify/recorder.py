"""The engine's webhook delivery port for one scenario: send, keep every exchange, give
each request its role.

A call's first callback request is the one whose answer must give the caller something;
when that answer only redirects, the Redirect target's answer inherits the role. A call
that keeps the app busy past :data:`MAX_CALLBACKS_PER_CALL` requests (a Redirect loop) is
stopped: its next request fails as if the app had not answered, so the engine ends it.

Each answer is shown to the run's :class:`~.run_guard.RunGuard`; once it stops the run, a
request is not sent, and one still waiting for the app is cut short: neither is kept, since
neither says anything about the app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from at_voice_kit.simulator.engine.ports import WebhookKind, WebhookRequest, WebhookResult
from at_voice_kit.simulator.verify.at_traffic import beyond_at
from at_voice_kit.simulator.verify.checks import passes_first_role_on
from at_voice_kit.simulator.verify.exchanges import Answer, Exchange, Origin, Role, SentRequest
from at_voice_kit.simulator.verify.run_guard import RunGuard
from at_voice_kit.simulator.verify.transport import Poster

MAX_CALLBACKS_PER_CALL = 100
"""Live requests one simulated call may make; crawled callers press at most a few keys, so
a call past this is looping."""
STOPPED = "atsim verify stopped the call: too many requests without an end (a Redirect loop?)"


GENERATED_PROBE = "a form generated from the contract's schemas to stress the app"


def probe_reason(origin: Origin, role: Role, request: SentRequest) -> str | None:
    """Why AT would never send ``request``, or None: what the engine sends is AT's traffic by
    construction; generated forms are always probes (their values are chosen to stress)."""
    if origin is Origin.SIMULATED:
        return None
    beyond = beyond_at(role, request.fields)
    if origin is Origin.GENERATED:
        return f"{GENERATED_PROBE} ({beyond})" if beyond else GENERATED_PROBE
    return beyond


class ScenarioRecorder:
    """Sends a scenario's requests through a :class:`Poster` and keeps what happened."""

    def __init__(
        self,
        poster: Poster,
        guard: RunGuard,
        scenario_id: str,
        *,
        max_callbacks: int = MAX_CALLBACKS_PER_CALL,
    ) -> None:
        self.poster = poster
        self.guard = guard
        self.scenario_id = scenario_id
        self.max_callbacks = max_callbacks
        self.exchanges: list[Exchange] = []
        self.stopped_after: Exchange | None = None
        """The last exchange before the call was stopped for looping, if it was."""
        self._sent = 0
        self._callbacks = 0
        self._first_pending = True

    async def deliver(self, request: WebhookRequest) -> WebhookResult:
        """The engine's delivery port: send one simulated webhook."""
        role = self._role_of(request)
        if role.expects_actionxml:
            self._callbacks += 1
            if self._callbacks > self.max_callbacks:
                if self.stopped_after is None:
                    self.stopped_after = self._last_callback()
                return WebhookResult(None, error=STOPPED)
            self._first_pending = False
        exchange = await self.send(role, SentRequest(request.url, request.fields))
        if exchange is None:
            return WebhookResult(
                None, error=f"not sent: verify stopped the run ({self.guard.reason})"
            )
        answer = exchange.answer
        if role is Role.FIRST and answer.is_2xx and passes_first_role_on(answer.body):
            self._first_pending = True
        return WebhookResult(answer.status, answer.body, answer.elapsed, answer.error,
                             answer.timed_out)  # fmt: skip

    async def send(
        self, role: Role, request: SentRequest, origin: Origin = Origin.SIMULATED
    ) -> Exchange | None:
        """Send one request and keep the exchange (numbered in the order sent), marked as a
        robustness probe when AT would never send it; None if the run stopped first."""
        if self.guard.stopped:
            return None
        self._sent += 1
        index = self._sent
        sent_at = time.perf_counter()
        answer = await self._unless_stopped(self.poster.post(request))
        if answer is None:
            return None
        probe = probe_reason(origin, role, request)
        exchange = Exchange(index, role, origin, request, answer, probe, sent_at)
        self.exchanges.append(exchange)
        await self.guard.observe(exchange, self.scenario_id)
        return exchange

    async def _unless_stopped(self, posting: Coroutine[Any, Any, Answer]) -> Answer | None:
        """The answer, or None when the run stops while the app is still answering."""
        answer = asyncio.ensure_future(posting)
        stopped = asyncio.ensure_future(self.guard.wait_stopped())
        try:
            await asyncio.wait((answer, stopped), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if answer.done():
            return answer.result()
        answer.cancel()
        return None

    async def send_together(self, requests: list[tuple[Role, SentRequest]], origin: Origin) -> None:
        """Send several requests at the same moment (a redelivery racing the original)."""
        await asyncio.gather(*(self.send(r, s, origin) for r, s in requests))

    def ordered(self) -> tuple[Exchange, ...]:
        """Every exchange, in the order the requests were sent."""
        return tuple(sorted(self.exchanges, key=lambda exchange: exchange.index))

    def _role_of(self, request: WebhookRequest) -> Role:
        if request.kind is WebhookKind.EVENT:
            return Role.EVENT
        if dict(request.fields).get("isActive") == "0":
            return Role.FINAL
        return Role.FIRST if self._first_pending else Role.LIVE

    def _last_callback(self) -> Exchange | None:
        callbacks = [e for e in self.ordered() if e.role.expects_actionxml]
        return callbacks[-1] if callbacks else None
