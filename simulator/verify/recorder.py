"""The engine's webhook delivery port for one scenario: send, keep every exchange, give
each request its role.

A call's first callback request is the one whose answer must give the caller something;
when that answer only redirects, the Redirect target's answer inherits the role. A call
that keeps the app busy past :data:`MAX_CALLBACKS_PER_CALL` requests (a Redirect loop) is
stopped: its next request fails as if the app had not answered, so the engine ends it.
"""

from __future__ import annotations

import asyncio

from at_voice_kit.simulator.engine.ports import WebhookKind, WebhookRequest, WebhookResult
from at_voice_kit.simulator.verify.at_traffic import beyond_at
from at_voice_kit.simulator.verify.checks import passes_first_role_on
from at_voice_kit.simulator.verify.exchanges import Exchange, Origin, Role, SentRequest
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

    def __init__(self, poster: Poster, *, max_callbacks: int = MAX_CALLBACKS_PER_CALL) -> None:
        self.poster = poster
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
        answer = exchange.answer
        if role is Role.FIRST and answer.is_2xx and passes_first_role_on(answer.body):
            self._first_pending = True
        return WebhookResult(answer.status, answer.body, answer.elapsed, answer.error,
                             answer.timed_out)  # fmt: skip

    async def send(
        self, role: Role, request: SentRequest, origin: Origin = Origin.SIMULATED
    ) -> Exchange:
        """Send one request and keep the exchange (numbered in the order sent), marked as a
        robustness probe when AT would never send it."""
        self._sent += 1
        index = self._sent
        answer = await self.poster.post(request)
        exchange = Exchange(
            index, role, origin, request, answer, probe_reason(origin, role, request)
        )
        self.exchanges.append(exchange)
        return exchange

    async def send_together(
        self, requests: list[tuple[Role, SentRequest]], origin: Origin
    ) -> list[Exchange]:
        """Send several requests at the same moment (a redelivery racing the original)."""
        return list(await asyncio.gather(*(self.send(r, s, origin) for r, s in requests)))

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
