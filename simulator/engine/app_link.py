"""One call's webhooks: where its callback requests go, its events, and the journal.

:class:`AppLink` sends every request of a call through the delivery port, journals each
exchange, and reads the app's answers to live requests. It knows nothing of the call's
states or of the phone user; the runner decides what an answer means for the call.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime

from at_voice_kit.contracts.actionxml.model import Response
from at_voice_kit.contracts.actionxml.problems import Problem
from at_voice_kit.contracts.vocabulary import CallSessionState, EventType
from at_voice_kit.simulator.engine.answers import read_answer
from at_voice_kit.simulator.engine.call_line import EngineContext
from at_voice_kit.simulator.engine.events import EventOutbox
from at_voice_kit.simulator.engine.payloads import (
    EVENT_SESSION_STATES,
    CallFacts,
    Fields,
    Settlement,
    callback_fields,
    event_fields,
    final_fields,
)
from at_voice_kit.simulator.engine.ports import WebhookExchange, WebhookRequest, WebhookResult
from at_voice_kit.simulator.engine.records import CallRequest
from at_voice_kit.simulator.engine.timing import draw

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AppAnswer:
    """The app's answer to a live request: the document to carry out, or why there is none.

    ``waited`` is the clock time AT spent waiting for it (simulated under a virtual clock,
    where the app's real response time cannot be seen; already passed under a real one).
    ``problems`` are the ActionXML problems of the answer, whether or not it could be used.
    """

    response: Response | None
    failure: str | None
    waited: float
    problems: tuple[Problem, ...] = ()


class AppLink:
    """The webhooks of one call, in the order the call sends them."""

    __slots__ = ("_context", "_currency", "_facts", "_outbox", "_rng", "url")

    def __init__(self, request: CallRequest, facts: CallFacts, context: EngineContext,
                 rng: random.Random, fault_rng: random.Random, currency: str) -> None:  # fmt: skip
        self.url = request.callback_url
        """Where callback requests go now (the number's URL, then Redirects and callbackUrls)."""
        self._context = context
        self._facts = facts
        self._rng = rng
        self._currency = currency
        self._outbox: EventOutbox | None = None
        if request.events_url:
            self._outbox = EventOutbox(
                request.events_url, self._send_event, context.clock,
                context.options.event_faults, fault_rng,
            )  # fmt: skip

    async def ask(
        self,
        extra: Fields = (),
        url: str | None = None,
        *,
        state: CallSessionState = CallSessionState.ANSWERED,
    ) -> AppAnswer:
        """POST a live callback request (to ``url``, else the call's URL) of a call in
        ``state`` and read the answer."""
        clock, options = self._context.clock, self._context.options
        fields = callback_fields(self._facts, options.separator, extra, state=state)
        request = WebhookRequest(url or self.url, fields)
        sent_at = clock.now()
        result = await self.deliver(request)
        latency = draw(options.timing.webhook_latency, self._rng)  # always drawn: same stream
        waited = options.webhook_timeout if result.timed_out else latency
        waited = waited if clock.is_virtual else 0.0
        failure = result.failure()
        if failure is not None:
            self._journal(request, result, sent_at, note=failure)
            return AppAnswer(None, failure, waited)
        reading = read_answer(result.body, self._context.ports.parse, strict=options.strict)
        self._journal(request, result, sent_at, note=reading.note)
        return AppAnswer(reading.response, reading.failure, waited, reading.problems)

    def post_event(self, event: EventType, extra: Fields = ()) -> None:
        """Queue a lifecycle event for the events URL (none without one)."""
        if self._outbox is None:
            return
        self._outbox.post(event_fields(
            self._facts, event, self._context.options.separator,
            currency=self._currency, state=EVENT_SESSION_STATES.get(event), extra=extra,
        ))  # fmt: skip

    async def hang_up(
        self, settlement: Settlement, event: EventType | None, reason: str, at: datetime
    ) -> None:
        """Send the final request, then the terminal event, and wait until every event is out."""
        options = self._context.options
        separator = options.separator
        fields = final_fields(
            self._facts, settlement, separator,
            cause_when_answered=options.hangup_cause_when_answered,
        )  # fmt: skip
        request = WebhookRequest(self.url, fields)
        result = await self.deliver(request)
        self._journal(request, result, at, note=reason)
        if self._outbox is not None and event is not None:
            self._outbox.post(event_fields(
                self._facts, event, separator, currency=settlement.charge.currency,
                settlement=settlement,
            ))  # fmt: skip
            await self._outbox.drain()

    def cancel(self) -> None:
        """A reset or shutdown: the call's events in flight go with it."""
        if self._outbox is not None:
            self._outbox.cancel()

    async def deliver(self, request: WebhookRequest) -> WebhookResult:
        """Hand ``request`` to the delivery port; a port that raises counts as an app that
        cannot be reached.

        Ports report network faults in the result, but a URL the app handed over (a
        ``Redirect``, a ``callbackUrl``) can still make an HTTP client raise something else
        (httpx's ``InvalidURL`` for a bad port, ``idna`` errors for a malformed host name).
        Left to propagate, that killed the call's task and the call stayed live for ever, with
        no final request; AT would simply fail to reach such a URL, and so does the call here.
        """
        try:
            return await self._context.ports.delivery.deliver(request)
        except Exception as exc:  # any fault of the port is a failed delivery
            # The URL stays out of the log: apps put secrets in their webhook URLs' queries.
            log.warning("call %s: a webhook could not be sent (%s)", self._facts.session_id,
                        type(exc).__name__)  # fmt: skip
            return WebhookResult(None, error=f"{type(exc).__name__}: {exc}")

    async def _send_event(self, request: WebhookRequest) -> None:
        sent_at = self._context.clock.now()
        result = await self.deliver(request)
        self._journal(request, result, sent_at, note=result.failure())

    def _journal(
        self, request: WebhookRequest, result: WebhookResult, sent_at: datetime, note: str | None
    ) -> None:
        exchange = WebhookExchange(request, result, sent_at, note)
        self._context.ports.journal.record_webhook(self._facts.session_id, exchange)
