"""The imperative shell around one call: drives its lifecycle through the ports.

A :class:`CallRun` rings the phone user (or receives them), posts the callback requests,
executes the app's ActionXML (:mod:`at_voice_kit.simulator.engine.flow`), posts lifecycle events,
and settles the call with the final request. Every wait goes through the injected clock and every
draw through the call's own seeded ``random.Random``; the run holds no thread and only a few small
objects, so thousands can be live at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from at_voice_kit.contracts.actionxml.model import Reject, Response
from at_voice_kit.contracts.phone import carrier_name, country_calling_code
from at_voice_kit.contracts.vocabulary import (
    NONE_STRING,
    CallSessionState,
    CallStatus,
    Direction,
    EventType,
    HangupCause,
)
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.clock import Clock, LineClock, Wakeup
from at_voice_kit.simulator.engine.events import EventOutbox
from at_voice_kit.simulator.engine.line import LineEventKind
from at_voice_kit.simulator.engine.live_caller import LiveCaller
from at_voice_kit.simulator.engine.options import EngineOptions, EnginePorts
from at_voice_kit.simulator.engine.outcomes import ANSWERED_ENDING, REJECTED_BY_APP_ENDING, Ending
from at_voice_kit.simulator.engine.payloads import (
    CallFacts,
    Fields,
    Settlement,
    callback_fields,
    event_fields,
    final_fields,
    whole_seconds,
)
from at_voice_kit.simulator.engine.phone_user import PhoneUser
from at_voice_kit.simulator.engine.ports import WebhookExchange, WebhookRequest, WebhookResult
from at_voice_kit.simulator.engine.previews import NOTE_CHARS, PREVIEW_CHARS, HeadAndTail, clipped
from at_voice_kit.simulator.engine.records import CallRecord, CallRequest, LegRecord, StateChange
from at_voice_kit.simulator.engine.signals import AppFailure, CallOver
from at_voice_kit.simulator.engine.states import INITIAL_EVENT, CallLifecycle, CallState
from at_voice_kit.simulator.engine.timing import draw

log = logging.getLogger(__name__)

TIMELINE_KEPT = (200, 100)
"""A call's first and latest timeline lines kept (a Redirect loop may never hang up)."""

_EVENT_STATE = {
    EventType.SESSION_RINGING: CallSessionState.RINGING,
    EventType.SESSION_ANSWERED: CallSessionState.ANSWERED,
    EventType.SESSION_QUEUED: CallSessionState.ANSWERED,
    EventType.SESSION_TRANSFERRED: CallSessionState.ANSWERED,
}


@dataclass(frozen=True, slots=True)
class EngineContext:
    """What every call of one engine shares."""

    clock: Clock
    ports: EnginePorts
    options: EngineOptions
    seed: int | str
    lookup: Callable[[str], CallRun | None] = field(default=lambda _: None)


class CallRun:
    """One live call. Create it, then ``await run()`` once; it returns the call's record."""

    __slots__ = ("_outbox", "bridge_recorded_from", "context", "currency", "deadline", "facts",
                 "legs", "lifecycle", "line_busy", "live", "notes", "queue_peer", "queue_wakeup",
                 "rates", "recordings", "request", "rng", "transfer_wakeup", "url",
                 "user")  # fmt: skip

    def __init__(self, request: CallRequest, context: EngineContext, rng: random.Random,
                 fault_rng: random.Random, *, live: LiveCaller | None = None,
                 line_busy: bool = False) -> None:  # fmt: skip
        """``live``: a person holds the phone user's number and takes this call (``context``
        then runs on their :class:`LineClock`); ``line_busy``: a person holds it but is on
        another call, so the phone is busy."""
        self.request = request
        self.context = context
        self.rng = rng
        now = context.clock.now()
        self.lifecycle = CallLifecycle(now)
        self.facts = CallFacts(
            session_id=request.session_id,
            direction=request.direction,
            phone_number=request.phone_number,
            at_number=request.at_number,
            caller_country_code=country_calling_code(request.phone_number),
            caller_carrier=carrier_name(request.phone_number) or NONE_STRING,
            client_request_id=request.client_request_id,
        )
        self.rates = request.rates or context.options.rates
        self.currency = self.rates.currency_for(request.phone_number)
        script = request.script or context.ports.callees.script_for(request.phone_number)
        self.user = PhoneUser(request.phone_number, script, rng, context.options.timing)
        self.url = request.callback_url
        self.deadline: datetime | None = None
        self.legs: list[LegRecord] = []
        self.recordings: list[str] = []
        self.notes: HeadAndTail[tuple[datetime, str]] = HeadAndTail(*TIMELINE_KEPT)
        self.transfer_wakeup: Wakeup | None = None
        self.queue_wakeup: Wakeup | None = None
        self.queue_peer: str | None = None
        """The session id of the call this one is bridged with through a queue (Enqueue and
        Dequeue bridge two calls of the platform; Dial bridges a leg, not a call)."""
        self.bridge_recorded_from: datetime | None = None
        self.live = live
        self.line_busy = line_busy
        if live is not None:
            live.on_hangup = self.hang_up_now
        self._outbox: EventOutbox | None = None
        if request.events_url:
            self._outbox = EventOutbox(
                request.events_url, self._send_event, context.clock,
                context.options.event_faults, fault_rng,
            )  # fmt: skip

    # -- the whole call ---------------------------------------------------------------

    async def run(self) -> CallRecord:
        """Run the call to its end and return its record."""
        try:
            return await self._run()
        except asyncio.CancelledError:
            # A reset or shutdown: the call's events in flight go with it.
            if self._outbox is not None:
                self._outbox.cancel()
            raise
        finally:
            if self.live is not None:
                self.live.line.detach(self.facts.session_id)

    async def _run(self) -> CallRecord:
        from at_voice_kit.simulator.engine.flow import execute  # flow imports this module

        self._announce(CallState.QUEUED)  # the call's clock starts: its timeline counts from here
        self._post_event(INITIAL_EVENT)
        try:
            if self.request.direction is Direction.OUTBOUND:
                await self._ring_phone_user()
                self._connect()
                response = await self.fetch_or_fail()
            else:
                response = await self._receive_inbound()
            await execute(self, response)
            ending, reason = ANSWERED_ENDING, "no more actions: AT hung up"
        except CallOver as over:
            ending, reason = over.ending, over.reason
        return await self._settle(ending, reason)

    async def _ring_phone_user(self) -> None:
        options = self.context.options
        await self.context.clock.sleep(draw(options.timing.dial_out, self.rng))
        if self.live is not None:
            self.advance(CallState.RINGING)
            answer = await self.live.ring(self.facts.at_number, options.live_ring_seconds)
            if answer is not CalleeAnswer.ANSWERED:
                cause = options.outcomes.draw_cause(answer, self.rng, sip=False)
                self.advance(CallState.NOT_ANSWERED)
                ending = options.outcomes.ending(answer, cause)
                raise CallOver(ending, f"the person did not answer ({answer.value}: {cause})")
            return
        answer = CalleeAnswer.BUSY if self.line_busy else self.user.answer(options.outcomes)
        ring = options.outcomes.draw_ring_seconds(answer, self.rng)
        if options.outcomes.rule(answer).rings:
            self.advance(CallState.RINGING)
        await self.context.clock.sleep(ring)
        if answer is not CalleeAnswer.ANSWERED:
            cause = options.outcomes.draw_cause(answer, self.rng, sip=False)
            self.advance(CallState.NOT_ANSWERED)
            ending = options.outcomes.ending(answer, cause)
            raise CallOver(ending, f"the phone user did not answer ({answer.value}: {cause})")

    def _connect(self) -> None:
        """The phone user is on the line: start the call's clock and their patience."""
        if self.facts.call_start is None:  # inbound calls started when they arrived
            self._start_call_clock()
        if self.lifecycle.state is CallState.RINGING:
            self.advance(CallState.ANSWERED)
            self.advance(CallState.IN_FLOW)
        if self.live is not None:
            self.live.show(
                LineEventKind.CONNECTED,
                peer=self.facts.at_number,
                direction=self.facts.direction.value,
            )

    def _start_call_clock(self) -> None:
        """``callStartTime`` is now; the phone user's patience (``hangupAfter``) runs from it."""
        self.facts.call_start = self.context.clock.now()
        # A person hangs up when they choose (hang_up_now), never by a script.
        hangup_after = None if self.live is not None else self.user.hangup_after()
        if hangup_after is not None:
            self.deadline = self.facts.call_start + timedelta(seconds=hangup_after)

    async def _receive_inbound(self) -> Response:
        """An inbound call: ask the app first; answer unless it rejects."""
        self.advance(CallState.RINGING)
        self._start_call_clock()
        try:
            response = await self.fetch()
        except CallOver as over:
            if self.lifecycle.state is not CallState.RINGING:
                raise
            # Hung up while AT was still asking the app: cancelled before pickup.
            self.advance(CallState.NOT_ANSWERED)
            raise CallOver(_ORIGINATOR_CANCEL, over.reason) from None
        except AppFailure as failure:
            self._connect()
            await self.fail_app(str(failure))
        if response.actions and isinstance(response.actions[0], Reject):
            self.advance(CallState.NOT_ANSWERED)
            raise CallOver(REJECTED_BY_APP_ENDING, "the app rejected the inbound call")
        self._connect()
        return response

    async def _settle(self, ending: Ending, reason: str) -> CallRecord:
        from at_voice_kit.simulator.engine.bridging import (
            close_bridge,
        )  # bridging imports this module

        clock, options = self.context.clock, self.context.options
        now = clock.now()
        close_bridge(self)
        rates = self.rates
        if self.lifecycle.was_answered and self.facts.call_start is not None:
            duration = whole_seconds(self.facts.call_start, now)
            charge = rates.charge(self.facts.phone_number, self.facts.direction, duration)
        else:
            duration, charge = 0, rates.free(self.facts.phone_number)
        settlement = Settlement(ending, duration, charge)
        event = self.lifecycle.advance(CallState.ENDED, now)
        self.note(f"ended: {reason}")
        self._announce(CallState.ENDED)
        if self.live is not None:
            self.live.show(LineEventKind.ENDED, reason=reason, hangupCause=ending.cause.value)
        request = WebhookRequest(self.url, final_fields(self.facts, settlement, options.separator))
        result = await self.deliver(request)
        self._journal(request, result, now, note=reason)
        if self._outbox is not None and event is not None:
            self._outbox.post(event_fields(
                self.facts, event, options.separator, currency=charge.currency,
                settlement=settlement,
            ))  # fmt: skip
            await self._outbox.drain()
        record = CallRecord(
            session_id=self.facts.session_id,
            direction=self.facts.direction,
            phone_number=self.facts.phone_number,
            at_number=self.facts.at_number,
            ending=ending,
            end_reason=clipped(reason, PREVIEW_CHARS),
            queued_at=self.lifecycle.history[0][1],
            call_start=self.facts.call_start,
            ended_at=now,
            duration_seconds=duration,
            currency=charge.currency,
            amount=charge.wire_amount,
            legs=tuple(self.legs),
            recording_urls=tuple(self.recordings),
            timeline=self.notes.joined(
                lambda count, next_line: (next_line[0], f"({count} lines left out)")
            ),
        )
        if self.context.ports.on_call_end is not None:
            self.context.ports.on_call_end(record)
        return record

    # -- building blocks for the flow -------------------------------------------------

    def advance(
        self,
        target: CallState,
        extra: Fields = (),
        *,
        peer_session_id: str | None = None,
        peer_number: str | None = None,
    ) -> None:
        """Change state and post the event the transition table names for it.

        ``peer_session_id``/``peer_number`` say whom a bridged call now talks to.
        """
        event = self.lifecycle.advance(target, self.context.clock.now())
        self.note(target.value)
        self._announce(target, peer_session_id, peer_number)
        if target is CallState.BRIDGED and self.live is not None:
            peer = self.context.lookup(peer_session_id) if peer_session_id else None
            number = peer.facts.phone_number if peer is not None else peer_number
            self.live.show(LineEventKind.BRIDGED, number=number)
        if event is not None:
            self._post_event(event, extra)

    def _announce(
        self, state: CallState, peer_session_id: str | None = None, peer_number: str | None = None
    ) -> None:
        listener = self.context.ports.on_state_change
        if listener is not None:
            now = self.context.clock.now()
            listener(StateChange(self.facts.session_id, state, now, peer_session_id, peer_number))

    def note(self, text: str) -> None:
        """Add a line to the call's readable timeline (bounded: URLs in it are the app's)."""
        line = (self.context.clock.now(), clipped(text, NOTE_CHARS))
        self.notes.append(line)
        listener = self.context.ports.on_note
        if listener is not None:
            listener(self.facts.session_id, *line)

    def remaining(self) -> float | None:
        """Seconds until the phone user hangs up, or None if they will not."""
        if self.deadline is None:
            return None
        return max((self.deadline - self.context.clock.now()).total_seconds(), 0.0)

    def hang_up_now(self) -> None:
        """The person on the line hung up: the call ends wherever it is. Their deadline is
        now, and every wait of the call is cut short (their clock is a :class:`LineClock`)."""
        now = self.context.clock.now()
        if self.deadline is None or self.deadline > now:
            self.deadline = now
        if isinstance(self.context.clock, LineClock):
            self.context.clock.interrupt()

    def person_left(self) -> bool:
        """True once the person on the line (if any) hung up."""
        return self.live is not None and self.live.hung_up

    def user_hangup(self, reason: str = "the phone user hung up") -> CallOver:
        """The signal for the phone user hanging up now."""
        cause = self.context.options.user_hangup_cause
        return CallOver(Ending(CallSessionState.COMPLETED, CallStatus.SUCCESS, cause), reason)

    async def spend(self, seconds: float) -> None:
        """Let ``seconds`` of the call pass, unless the phone user hangs up first."""
        remaining = self.remaining()
        if remaining is not None and remaining <= seconds:
            await self.context.clock.sleep(remaining)
            raise self.user_hangup()
        await self.context.clock.sleep(seconds)
        if self.person_left():  # they hung up during the wait, which ended it early
            raise self.user_hangup()

    async def fetch(self, extra: Fields = (), url: str | None = None) -> Response:
        """POST a live callback request and return the app's ActionXML.

        Raises AppFailure when the answer cannot be used, CallOver if the user hangs up
        while AT waits for the app.
        """
        clock, options = self.context.clock, self.context.options
        request = WebhookRequest(
            url or self.url, callback_fields(self.facts, options.separator, extra)
        )
        sent_at = clock.now()
        result = await self.deliver(request)
        latency = draw(options.timing.webhook_latency, self.rng)  # always drawn: same stream
        problem = result.failure()
        response: Response | None = None
        if problem is None:
            response, problem = self._read(result.body)
        self._journal(request, result, sent_at, note=problem)
        # Virtual time cannot see how long the app took, so the wait is simulated; in real
        # time it has already passed. Either way the user may have hung up meanwhile.
        waited = options.webhook_timeout if result.timed_out else latency
        await self.spend(waited if clock.is_virtual else 0.0)
        if problem is not None or response is None:
            raise AppFailure(problem or "no ActionXML")
        return response

    async def fetch_or_fail(self, extra: Fields = (), url: str | None = None) -> Response:
        """:meth:`fetch`, ending the call the way AT does if the app fails."""
        try:
            return await self.fetch(extra, url)
        except AppFailure as failure:
            await self.fail_app(str(failure))

    async def fail_app(self, problem: str) -> NoReturn:
        """The app failed: the caller hears AT's error message, then AT hangs up."""
        self.note(f"app failure: {problem}")
        await self.spend(self.context.options.timing.error_message)
        raise CallOver(self.context.options.app_error_ending, f"app failure: {problem}")

    def _read(self, body: str) -> tuple[Response | None, str | None]:
        if not body.strip():
            return Response(), None  # no instructions: AT hangs up
        parsed = self.context.ports.parse(body)
        if parsed.response is None or not parsed.ok:
            problems = "; ".join(str(p) for p in parsed.problems) or "not ActionXML"
            return None, f"ActionXML invalid: {problems}"
        return parsed.response, None

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
            return await self.context.ports.delivery.deliver(request)
        except Exception as exc:  # any fault of the port is a failed delivery
            # The URL stays out of the log: apps put secrets in their webhook URLs' queries.
            log.warning("call %s: a webhook could not be sent (%s)", self.facts.session_id,
                        type(exc).__name__)  # fmt: skip
            return WebhookResult(None, error=f"{type(exc).__name__}: {exc}")

    def _post_event(self, event: EventType, extra: Fields = ()) -> None:
        if self._outbox is None:
            return
        self._outbox.post(event_fields(
            self.facts, event, self.context.options.separator,
            currency=self.currency,
            state=_EVENT_STATE.get(event), extra=extra,
        ))  # fmt: skip

    async def _send_event(self, request: WebhookRequest) -> None:
        sent_at = self.context.clock.now()
        result = await self.deliver(request)
        self._journal(request, result, sent_at, note=result.failure())

    def _journal(
        self, request: WebhookRequest, result: WebhookResult, sent_at: datetime, note: str | None
    ) -> None:
        exchange = WebhookExchange(request, result, sent_at, note)
        self.context.ports.journal.record_webhook(self.facts.session_id, exchange)


_ORIGINATOR_CANCEL = Ending(
    CallSessionState.NOT_ANSWERED, CallStatus.NOT_ANSWERED, HangupCause.ORIGINATOR_CANCEL
)
"""An inbound caller who hung up before AT answered (while it was still asking the app)."""
