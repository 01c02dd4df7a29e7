"""The simulated network: the backend's calls, really placed by the call engine.

:class:`SimulatedNetwork` is the backend's
:class:`~at_voice_kit.simulator.backend.calls.CallLauncher`. Every call ``/call`` queues (and every
inbound call the admin API simulates) becomes an engine call with the session id the REST surface
already issued, the AT number's callback and events URLs, the account's price list and the
configured speed, webhook timeout and event faults. The engine reports back through
:mod:`at_voice_kit.simulator.network.platform_ports`: phases and bridges, the journal, queues, and
the final cost settled against the balance.

Threads: the engine runs on one asyncio event loop (the server's). The backend may be used
from other threads (the pytest plugin resets it from the test's thread), so every entry
point hands its work to that loop; only :meth:`SimulatedNetwork.reset` waits for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from at_voice_kit.contracts.vocabulary import CallSessionState, CallStatus, Direction, HangupCause
from at_voice_kit.simulator.backend.calls import Call, TransferRequest
from at_voice_kit.simulator.backend.platform_config import SpeedMode
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.delivery.http_delivery import HttpxWebhookDelivery
from at_voice_kit.simulator.engine.clock import Clock, RealClock, VirtualClock
from at_voice_kit.simulator.engine.engine import CallEngine, InvalidCallRequest
from at_voice_kit.simulator.engine.options import EngineOptions, EnginePorts
from at_voice_kit.simulator.engine.outcomes import Ending
from at_voice_kit.simulator.engine.ports import WebhookDelivery
from at_voice_kit.simulator.engine.rates import RateTable
from at_voice_kit.simulator.engine.recordings import Recording, RecordingStore
from at_voice_kit.simulator.engine.records import CallRecord
from at_voice_kit.simulator.network.platform_ports import Generation, GuardedDelivery, PlatformPorts
from at_voice_kit.simulator.network.pricing import account_rate_table

log = logging.getLogger(__name__)

RESET_TIMEOUT_SECONDS = 10.0
TRANSFER_ANSWER_SECONDS = 10.0
"""How long a ``/callTransfer`` asked from another thread waits for the loop's answer."""

NOT_PLACED_ENDING = Ending(
    CallSessionState.NOT_ANSWERED, CallStatus.ABORTED, HangupCause.UNSPECIFIED
)
"""A call the platform could not place (its AT number has no callback URL): it never rang."""


@dataclass(slots=True)
class _Run:
    """The engine of one generation (between two resets) and what it needs."""

    generation: Generation
    engine: CallEngine
    recordings: RecordingStore
    ports: PlatformPorts


class SimulatedNetwork:
    """Places the backend's calls with the call engine; plug it in with :meth:`attach`.

    ``delivery`` replaces the HTTP webhook delivery (tests hand in in-process apps);
    ``public_url`` is the base of ``recordingUrl`` values (the config's ``publicUrl`` wins).
    """

    def __init__(
        self,
        backend: VoiceBackend,
        *,
        delivery: WebhookDelivery | None = None,
        public_url: str | None = None,
        epoch: datetime | None = None,
    ) -> None:
        self._backend = backend
        self._config = backend.config
        self._injected_delivery = delivery
        self._http: HttpxWebhookDelivery | None = None
        self._public_url = self._config.public_url or public_url or self._default_url()
        self._epoch = epoch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._run: _Run | None = None
        self._rates: dict[str, RateTable] = {}
        self._lock = threading.Lock()

    @classmethod
    def attach(
        cls,
        backend: VoiceBackend,
        *,
        delivery: WebhookDelivery | None = None,
        public_url: str | None = None,
        epoch: datetime | None = None,
    ) -> SimulatedNetwork:
        """Make a new network the backend's launcher and return it."""
        network = cls(backend, delivery=delivery, public_url=public_url, epoch=epoch)
        backend.launcher = network
        return network

    # -- where it runs --------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        """The base URL recordings are served under."""
        return self._public_url

    def set_public_url(self, url: str) -> None:
        """Use ``url`` for recording URLs (the server's address, once it is bound), unless
        the configuration names a public URL."""
        if self._config.public_url is None:
            self._public_url = url.rstrip("/")
            if self._run is not None:
                self._run.recordings.public_base_url = self._public_url

    def bind(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Run calls on ``loop`` (default: the running one). The server calls this at start."""
        loop = loop or asyncio.get_running_loop()
        with self._lock:
            if self._loop is not loop:
                self._loop, self._run = loop, None
                self._loop_thread = threading.get_ident() if loop.is_running() else None

    def _default_url(self) -> str:
        host = self._config.host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - only to build a URL
            host = "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self._config.port}"

    def _on_loop(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the calls' event loop: now if this is its thread, else soon."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                if running is None:
                    raise RuntimeError(
                        "simulated calls run on an event loop: serve the simulator "
                        "(atsim serve, ThreadedSimulator) before placing calls"
                    )
                self._loop, self._run = running, None
            loop = self._loop
        if running is loop:
            self._loop_thread = threading.get_ident()
            work()
        else:
            loop.call_soon_threadsafe(work)

    # -- the launcher protocol ------------------------------------------------------------

    def launch(self, call: Call) -> None:
        """Place a call ``/call`` queued, or receive an inbound one, on the event loop."""
        self._on_loop(lambda: self._start(call))

    def transfer(self, call: Call, request: TransferRequest) -> str | None:
        """Carry out a ``/callTransfer`` the backend accepted; why the engine refused it, or
        ``None``. Off the loop's thread (a test's), it waits for the loop's answer."""
        answer: concurrent.futures.Future[str | None] = concurrent.futures.Future()

        def work() -> None:
            try:
                answer.set_result(self._transfer(call, request))
            except Exception as exc:
                answer.set_exception(exc)

        self._on_loop(work)
        try:
            return answer.result(timeout=TRANSFER_ANSWER_SECONDS)
        except concurrent.futures.TimeoutError:
            return "the simulator's event loop did not answer in time"

    def reset(self) -> None:
        """Cancel every live call; the next call starts a fresh engine (and clock)."""
        loop = self._loop
        if loop is None or self._run is None:
            self._run = None
            return
        if loop.is_closed() or not loop.is_running():
            self._close_run()
            return
        if threading.get_ident() == self._loop_thread:
            self._close_run()
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def close_on_loop() -> None:
            self._close_run()
            done.set_result(None)

        loop.call_soon_threadsafe(close_on_loop)
        try:
            done.result(timeout=RESET_TIMEOUT_SECONDS)
        except concurrent.futures.TimeoutError:
            log.warning("the event loop did not cancel the live calls in time")

    async def aclose(self) -> None:
        """Cancel every live call and close the HTTP client (server shutdown)."""
        run = self._run
        self._run = None
        if run is not None:
            run.generation.closed = True
            await run.engine.aclose()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _close_run(self) -> None:
        run, self._run = self._run, None
        if run is not None:
            run.generation.closed = True
            cancelled = run.engine.cancel_all()
            if cancelled:
                log.info("reset: %d live calls cancelled", cancelled)

    # -- recordings -----------------------------------------------------------------------

    def recording(self, recording_id: str) -> tuple[Recording, bytes] | None:
        """A recording of the current run and its WAV bytes, or ``None``."""
        run = self._run
        if run is None:
            return None
        recording = run.recordings.get(recording_id)
        wav = run.recordings.wav(recording_id)
        return None if recording is None or wav is None else (recording, wav)

    # -- on the loop ----------------------------------------------------------------------

    def _current(self) -> _Run:
        if self._run is None:
            generation = Generation()
            ports = PlatformPorts(self._backend, generation)
            recordings = RecordingStore(self._public_url)
            engine = CallEngine(
                EnginePorts(
                    delivery=GuardedDelivery(self._delivery(), generation),
                    journal=ports,
                    queues=ports,
                    callees=self._backend.callees,
                    recordings=recordings,
                    on_call_end=ports.on_call_end,
                    on_state_change=ports.on_state_change,
                    on_note=ports.on_note,
                    lines=self._backend.phones,
                ),
                clock=self._clock(),
                seed=self._config.seed,
                options=EngineOptions(
                    webhook_timeout=self._config.webhook_timeout,
                    event_faults=self._backend.event_faults,
                    strict=self._config.strict,
                    hangup_cause_when_answered=self._config.hangup_cause_when_answered,
                ),
            )
            self._run = _Run(generation, engine, recordings, ports)
        return self._run

    def _delivery(self) -> WebhookDelivery:
        if self._injected_delivery is not None:
            return self._injected_delivery
        if self._http is None:
            self._http = HttpxWebhookDelivery(timeout=self._config.webhook_timeout)
        return self._http

    def _clock(self) -> Clock:
        speed = self._config.speed
        if speed.mode is SpeedMode.FAST:
            return VirtualClock(self._epoch) if self._epoch else VirtualClock()
        return RealClock(speed.multiplier, self._epoch)

    def _rates_for(self, currency: str) -> RateTable:
        table = self._rates.get(currency)
        if table is None:
            table = account_rate_table(self._backend.destinations.tariffs_in(currency), currency)
            self._rates[currency] = table
        return table

    def _start(self, call: Call) -> None:
        run = self._current()
        number = self._backend.numbers.find(call.at_number)
        if number is None or number.callback_url is None:
            self._not_placed(run, call, f"AT number {call.at_number} has no callback URL")
            return
        run.engine.set_event_faults(self._backend.event_faults)
        rates = self._rates_for(call.currency)
        try:
            if call.direction is Direction.INBOUND:
                run.engine.dial_in(
                    call.phone_number, call.at_number, number.callback_url,
                    events_url=number.events_url, session_id=call.session_id, rates=rates,
                )  # fmt: skip
            else:
                run.engine.place_call(
                    call.phone_number, call.at_number, number.callback_url,
                    events_url=number.events_url, client_request_id=call.client_request_id,
                    session_id=call.session_id, rates=rates,
                )  # fmt: skip
        except InvalidCallRequest as exc:
            self._not_placed(run, call, f"the engine refused the call: {exc}")

    def _not_placed(self, run: _Run, call: Call, reason: str) -> None:
        """End a call that cannot be placed, with its reason in the record (and the log)."""
        log.warning("call %s not placed: %s", call.session_id, reason)
        now = run.engine.clock.now()
        record = CallRecord(
            session_id=call.session_id,
            direction=call.direction,
            phone_number=call.phone_number,
            at_number=call.at_number,
            ending=NOT_PLACED_ENDING,
            end_reason=f"not placed: {reason}",
            queued_at=now,
            call_start=None,
            ended_at=now,
            duration_seconds=0,
            currency=call.currency,
            amount="0",
            legs=(),
            recording_urls=(),
            timeline=((now, f"not placed: {reason}"),),
            placed=False,
        )
        run.ports.on_call_end(record)

    def _transfer(self, call: Call, request: TransferRequest) -> str | None:
        run = self._current()
        session_id = run.generation.parent_of.get(call.session_id, call.session_id)
        outcome = run.engine.transfer(
            session_id, request.phone_number, request.call_leg.value, request.hold_music_url
        )
        if outcome.ok:
            return None
        log.info("transfer of %s refused: %s", session_id, outcome.error_message)
        return outcome.error_message
