"""The call engine's front door: start calls, find live ones, transfer them, wait for them.

The server (``/call``, the admin API's inbound calls, ``/callTransfer``, ``/queueStatus``)
and the ``atsim`` commands use only this module's :class:`CallEngine`. Calls run as asyncio
tasks on the running event loop, so ``start``/``place_call``/``dial_in`` must be called from
inside it (an ASGI app's handlers, or ``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from at_voice_kit.contracts.phone import normalise_international
from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.engine.bridging import TransferOutcome, request_transfer
from at_voice_kit.simulator.engine.call_line import EngineContext
from at_voice_kit.simulator.engine.callee import CalleeScript
from at_voice_kit.simulator.engine.clock import Clock, LineClock, RealClock
from at_voice_kit.simulator.engine.events import EventFaults
from at_voice_kit.simulator.engine.live_caller import LiveCaller
from at_voice_kit.simulator.engine.options import EngineOptions, EnginePorts
from at_voice_kit.simulator.engine.rates import RateTable
from at_voice_kit.simulator.engine.records import CallRecord, CallRequest
from at_voice_kit.simulator.engine.runner import CallRun
from at_voice_kit.simulator.engine.session_ids import SessionIds, call_random, new_run_seed
from at_voice_kit.simulator.engine.states import CallState

log = logging.getLogger(__name__)


class InvalidCallRequest(ValueError):
    """A call the engine cannot start; ``field`` names the input, ``rule`` the rule broken."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class LiveCall:
    """A call the engine is running: its session id, current state, and eventual record."""

    __slots__ = ("run", "task")

    def __init__(self, run: CallRun, task: asyncio.Task[CallRecord]) -> None:
        self.run = run
        self.task = task

    @property
    def session_id(self) -> str:
        """The call's ``sessionId``."""
        return self.run.session_id

    @property
    def state(self) -> CallState:
        """Where the call is now."""
        return self.run.state

    async def result(self) -> CallRecord:
        """Wait for the call to end and return its record."""
        return await asyncio.shield(self.task)


class CallEngine:
    """Runs simulated calls against apps through the injected ports and clock.

    ``seed`` fixes every random draw (and, through :class:`SessionIds`, the session ids it
    hands out). Without one, the session ids come from :mod:`secrets` and the calls' draws
    from a fresh secret seed kept in :attr:`seed` (never shown): a call's draws, however many
    are observed, tell nothing about another call's, nor about any session id.
    """

    def __init__(
        self,
        ports: EnginePorts,
        *,
        clock: Clock | None = None,
        seed: int | str | None = None,
        options: EngineOptions | None = None,
    ) -> None:
        self.seeded = seed is not None
        self.seed: int | str = seed if seed is not None else new_run_seed()
        self.session_ids = SessionIds(seed)
        self.clock: Clock = clock or RealClock()
        self.options = options or EngineOptions()
        self.ports = ports
        self._live: dict[str, LiveCall] = {}
        self._context = EngineContext(self.clock, ports, self.options, self.seed, self._run_of)

    def start(self, request: CallRequest) -> LiveCall:
        """Start running ``request`` in the background and return its handle."""
        if request.session_id in self._live:
            raise InvalidCallRequest("sessionId", "is already in use by a live call")
        sid = request.session_id
        run = self._new_run(request)
        run.clock.join()  # before the task exists, so virtual time waits for its first step
        task = asyncio.get_running_loop().create_task(self._drive(run), name=f"call {sid}")
        live = LiveCall(run, task)
        self._live[sid] = live
        return live

    def place_call(
        self,
        phone_number: str,
        at_number: str,
        callback_url: str,
        *,
        events_url: str | None = None,
        client_request_id: str | None = None,
        session_id: str | None = None,
        rates: RateTable | None = None,
    ) -> LiveCall:
        """An outbound call (``/call``) from ``at_number`` to the phone user ``phone_number``.

        ``rates`` prices it (the account's price list; default: the engine's table).
        """
        request = self._request(
            Direction.OUTBOUND, phone_number, at_number, callback_url, events_url,
            client_request_id, session_id,
        )  # fmt: skip
        return self.start(replace(request, rates=rates))

    def dial_in(
        self,
        phone_number: str,
        at_number: str,
        callback_url: str,
        *,
        events_url: str | None = None,
        session_id: str | None = None,
        rates: RateTable | None = None,
        script: CalleeScript | None = None,
    ) -> LiveCall:
        """An inbound call: the phone user ``phone_number`` calls the app's ``at_number``.

        ``script`` says what this caller does (default: the callee directory's script for
        the number, else drawn); ``rates`` prices the call.
        """
        request = self._request(
            Direction.INBOUND, phone_number, at_number, callback_url, events_url, None, session_id
        )
        return self.start(replace(request, rates=rates, script=script))

    async def run_call(self, request: CallRequest) -> CallRecord:
        """Run one call to its end."""
        return await self.start(request).result()

    def transfer(
        self,
        session_id: str,
        phone_number: str,
        call_leg: str = "callee",
        hold_music_url: str | None = None,
    ) -> TransferOutcome:
        """``/callTransfer``: move one leg of a bridged call to ``phone_number``."""
        return request_transfer(self._run_of(session_id), phone_number, call_leg, hold_music_url)

    def live(self, session_id: str) -> LiveCall | None:
        """The live call with this session id, if any."""
        return self._live.get(session_id)

    def live_calls(self) -> list[LiveCall]:
        """Every call still running."""
        return list(self._live.values())

    async def wait_all(self) -> list[CallRecord]:
        """Wait until every live call (including ones started meanwhile) has ended."""
        records: list[CallRecord] = []
        while self._live:
            done = await asyncio.gather(*(c.task for c in list(self._live.values())))
            records.extend(done)
        return records

    def set_event_faults(self, faults: EventFaults) -> None:
        """Use ``faults`` for the events of calls started from now on (live ones keep theirs)."""
        if faults == self.options.event_faults:
            return
        self.options = replace(self.options, event_faults=faults)
        self._context = EngineContext(self.clock, self.ports, self.options, self.seed, self._run_of)

    def cancel_all(self) -> int:
        """Cancel every live call now, from the event loop's thread (a reset of the platform).

        The calls are forgotten at once, so their session ids can be used again straight
        away; no final requests are sent. Returns how many calls were cancelled.
        """
        live = list(self._live.values())
        self._live.clear()
        for call in live:
            call.task.cancel()
        return len(live)

    async def aclose(self) -> None:
        """Cancel every live call (server shutdown); no final requests are sent."""
        tasks = [c.task for c in self._live.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _new_run(self, request: CallRequest) -> CallRun:
        """A call, simulated, or live when a person holds the phone user's number: then it
        runs on the person's own clock, in real time whatever the engine's clock."""
        sid = request.session_id
        rng, fault_rng = call_random(self.seed, sid), call_random(self.seed, sid, "faults")
        lines = self.ports.lines
        line = lines.line_for(request.phone_number) if lines is not None else None
        if line is None:
            return CallRun(request, self._context, rng, fault_rng)
        clock = LineClock(self.clock.now())
        live = LiveCaller(line, sid, clock)
        if not line.attach(sid, live):
            return CallRun(request, self._context, rng, fault_rng, line_busy=True)
        return CallRun(request, replace(self._context, clock=clock), rng, fault_rng, live=live)

    def _run_of(self, session_id: str) -> CallRun | None:
        live = self._live.get(session_id)
        return None if live is None else live.run

    async def _drive(self, run: CallRun) -> CallRecord:
        try:
            return await run.run()
        except Exception:
            log.exception("call %s failed inside the engine", run.session_id)
            raise
        finally:
            live = self._live.get(run.session_id)
            if live is not None and live.run is run:  # not a newer call with the same id
                del self._live[run.session_id]
            run.clock.leave()

    def _request(
        self,
        direction: Direction,
        phone_number: str,
        at_number: str,
        callback_url: str,
        events_url: str | None,
        client_request_id: str | None,
        session_id: str | None,
    ) -> CallRequest:
        return CallRequest(
            session_id=session_id or self.session_ids.next(),
            direction=direction,
            phone_number=_number("phoneNumber", phone_number),
            at_number=_number("atNumber", at_number),
            callback_url=_url("callbackUrl", callback_url),
            events_url=_url("eventsUrl", events_url) if events_url else None,
            client_request_id=client_request_id,
        )


def _number(field: str, raw: str) -> str:
    try:
        return normalise_international(raw)
    except ValueError as exc:
        raise InvalidCallRequest(field, getattr(exc, "rule", str(exc))) from None


def _url(field: str, raw: str) -> str:
    problem = http_url_problem(raw)
    if problem is not None:
        raise InvalidCallRequest(field, problem)
    return raw
