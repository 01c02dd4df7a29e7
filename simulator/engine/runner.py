"""The imperative shell around one call: drives its lifecycle through the ports.

A :class:`CallRun` rings the phone user (or receives them), posts the callback requests,
executes the app's ActionXML (:mod:`at_voice_kit.simulator.engine.flow`), posts lifecycle events,
and settles the call with the final request. Every wait goes through the injected clock and every
draw through the call's own seeded ``random.Random``; the run holds no thread and only a few small
objects, so thousands can be live at once.

The run owns its call's state. The flow and the bridging code change it only through the
operations of :class:`~at_voice_kit.simulator.engine.call_line.AppCallLine`, which it implements;
its webhooks go through its :class:`~at_voice_kit.simulator.engine.app_link.AppLink`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NoReturn

from at_voice_kit.contracts.actionxml.model import Reject, Response
from at_voice_kit.contracts.phone import carrier_name, country_calling_code
from at_voice_kit.contracts.vocabulary import (
    NONE_STRING,
    CallSessionState,
    CallStatus,
    Direction,
    HangupCause,
)
from at_voice_kit.simulator.engine.answers import ProblemLog
from at_voice_kit.simulator.engine.app_link import AppLink
from at_voice_kit.simulator.engine.bridge_state import BridgeState
from at_voice_kit.simulator.engine.call_line import CallLine, EngineContext
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.clock import Clock, LineClock
from at_voice_kit.simulator.engine.flow import execute
from at_voice_kit.simulator.engine.line import LineEventKind
from at_voice_kit.simulator.engine.live_caller import LiveCaller
from at_voice_kit.simulator.engine.options import EngineOptions, EnginePorts
from at_voice_kit.simulator.engine.outcomes import ANSWERED_ENDING, REJECTED_BY_APP_ENDING, Ending
from at_voice_kit.simulator.engine.payloads import (
    CallFacts,
    DialFacts,
    Fields,
    Settlement,
    whole_seconds,
)
from at_voice_kit.simulator.engine.phone_user import PhoneUser
from at_voice_kit.simulator.engine.previews import NOTE_CHARS, PREVIEW_CHARS, HeadAndTail, clipped
from at_voice_kit.simulator.engine.records import CallRecord, CallRequest, LegRecord, StateChange
from at_voice_kit.simulator.engine.signals import AppFailure, CallOver
from at_voice_kit.simulator.engine.states import INITIAL_EVENT, CallLifecycle, CallState
from at_voice_kit.simulator.engine.timing import draw

TIMELINE_KEPT = (200, 100)
"""A call's first and latest timeline lines kept (a Redirect loop may never hang up)."""


class CallRun:
    """One live call. Create it, then ``await run()`` once; it returns the call's record."""

    __slots__ = ("app", "bridge", "context", "deadline", "facts", "legs", "lifecycle",
                 "line_busy", "live", "notes", "problems", "rates", "recordings", "request", "rng",
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
        currency = self.rates.currency_for(request.phone_number)
        script = request.script or context.ports.callees.script_for(request.phone_number)
        self.user = PhoneUser(request.phone_number, script, rng, context.options.timing)
        self.deadline: datetime | None = None
        self.legs: list[LegRecord] = []
        self.recordings: list[str] = []
        self.notes: HeadAndTail[tuple[datetime, str]] = HeadAndTail(*TIMELINE_KEPT)
        self.bridge = BridgeState()
        self.problems = ProblemLog()
        self.app = AppLink(request, self.facts, context, rng, fault_rng, currency)
        self.live = live
        self.line_busy = line_busy
        if live is not None:
            live.on_hangup = self.hang_up_now

    # -- what the flow and the bridging code see (call_line.AppCallLine) -----------------

    @property
    def session_id(self) -> str:
        """The call's ``sessionId``."""
        return self.facts.session_id

    @property
    def phone_number(self) -> str:
        """The phone user's number."""
        return self.facts.phone_number

    @property
    def at_number(self) -> str:
        """The app's AT number."""
        return self.facts.at_number

    @property
    def state(self) -> CallState:
        """Where the call is now."""
        return self.lifecycle.state

    @property
    def clock(self) -> Clock:
        """The engine's clock."""
        return self.context.clock

    @property
    def options(self) -> EngineOptions:
        """How calls behave."""
        return self.context.options

    @property
    def ports(self) -> EnginePorts:
        """The engine's connections."""
        return self.context.ports

    def lookup(self, session_id: str) -> CallLine | None:
        """Another live call of the same engine."""
        return self.context.lookup(session_id)

    def follow(self, url: str) -> None:
        """Post the callback requests to ``url`` from now on (Redirect, Record's callbackUrl)."""
        self.app.url = url

    def add_legs(self, legs: Iterable[LegRecord]) -> None:
        """Record legs a Dial or a transfer rang."""
        self.legs.extend(legs)

    def connect_party(self, number: str) -> datetime:
        """The phone user talks to ``number`` from now (returned): the final request's dial
        fields."""
        now = self.context.clock.now()
        self.facts.dial = DialFacts(number, now)
        return now

    def release_party(self) -> None:
        """The connected party left: ``dialDurationInSeconds`` stops running."""
        if self.facts.dial is not None and self.facts.dial.ended_at is None:
            self.facts.dial.ended_at = self.context.clock.now()

    def store_recording(self, speech_seconds: float, silence_seconds: float) -> str:
        """Store a recording of this call; return its URL."""
        recording = self.context.ports.recordings.add(
            self.facts.session_id, speech_seconds, silence_seconds
        )
        self.recordings.append(recording.url)
        return recording.url

    def store_audio(self, wav: bytes, seconds: float) -> str:
        """Store what the person on the line recorded (a WAV); return its URL."""
        recording = self.context.ports.recordings.add_audio(self.facts.session_id, wav, seconds)
        self.recordings.append(recording.url)
        return recording.url

    def keep_final_recording(self, url: str) -> None:
        """Send ``url`` as the final request's ``recordingUrl``."""
        self.facts.final_recording_url = url

    # -- the whole call ---------------------------------------------------------------

    async def run(self) -> CallRecord:
        """Run the call to its end and return its record."""
        try:
            return await self._run()
        except asyncio.CancelledError:
            self.app.cancel()
            raise
        finally:
            if self.live is not None:
                self.live.line.detach(self.facts.session_id)

    async def _run(self) -> CallRecord:
        self._announce(CallState.QUEUED)  # the call's clock starts: its timeline counts from here
        self.app.post_event(INITIAL_EVENT)
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
            # A script's cause goes with the script's answer, not with a busy person's line.
            scripted = None if self.line_busy else self.user.scripted_cause()
            cause = scripted or options.outcomes.draw_cause(answer, self.rng, sip=False)
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
        now = self.context.clock.now()
        self._close_bridge(now)
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
        await self.app.hang_up(settlement, event, reason, now)
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
            problems=tuple(self.problems.kept),
            errors=self.problems.errors,
            warnings=self.problems.warnings,
            app_failure=self.problems.failure,
        )
        if self.context.ports.on_call_end is not None:
            self.context.ports.on_call_end(record)
        return record

    def _close_bridge(self, now: datetime) -> None:
        """At the end of a call: close the connected leg and store a Dial recording."""
        if self.facts.dial is not None and self.facts.dial.ended_at is None:
            self.facts.dial.ended_at = now
        seconds = self.bridge.stop_recording(now)
        if seconds is not None:
            self.keep_final_recording(self.store_recording(seconds, 0.0))

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
            number = peer.phone_number if peer is not None else peer_number
            self.live.show(LineEventKind.BRIDGED, number=number)
        if event is not None:
            self.app.post_event(event, extra)

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
        # AT asks about an inbound call before answering it: that request says Ringing.
        ringing = self.lifecycle.state is CallState.RINGING
        state = CallSessionState.RINGING if ringing else CallSessionState.ANSWERED
        answer = await self.app.ask(extra, url, state=state)
        for problem in answer.problems:
            self.problems.add(problem, self.context.clock.now())
            self.note(f"{problem.severity}: {problem}")
        # Virtual time cannot see how long the app took, so the wait is simulated; in real
        # time it has already passed. Either way the user may have hung up meanwhile.
        await self.spend(answer.waited)
        if answer.failure is not None or answer.response is None:
            raise AppFailure(answer.failure or "no ActionXML")
        return answer.response

    async def fetch_or_fail(self, extra: Fields = (), url: str | None = None) -> Response:
        """:meth:`fetch`, ending the call the way AT does if the app fails."""
        try:
            return await self.fetch(extra, url)
        except AppFailure as failure:
            await self.fail_app(str(failure))

    async def fail_app(self, problem: str) -> NoReturn:
        """The app failed: the caller hears AT's error message, then AT hangs up."""
        self.problems.failure = problem
        self.note(f"app failure: {problem}")
        await self.spend(self.context.options.timing.error_message)
        raise CallOver(self.context.options.app_error_ending, f"app failure: {problem}")


_ORIGINATOR_CANCEL = Ending(
    CallSessionState.NOT_ANSWERED, CallStatus.NOT_ANSWERED, HangupCause.ORIGINATOR_CANCEL
)
"""An inbound caller who hung up before AT answered (while it was still asking the app)."""
