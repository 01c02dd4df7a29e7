"""The events URL: a call's lifecycle notifications, posted in the background, in order.

AT posts events independently of the call flow, so a slow events endpoint must not hold
the call up: each call has an :class:`EventOutbox` whose worker posts its events one after
another. For robustness testing the outbox can misbehave on purpose (:class:`EventFaults`):
delay an event (later ones overtake it), post it twice, or swap it with the next one. Fault
draws come from their own seeded stream, so turning faults on never changes the payloads.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from at_voice_kit.simulator.engine.clock import Clock
from at_voice_kit.simulator.engine.ports import WebhookKind, WebhookRequest
from at_voice_kit.simulator.engine.timing import Range, draw

Sender = Callable[[WebhookRequest], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EventFaults:
    """Probabilities (0 to 1) of each delivery fault, per event; all off by default."""

    delay_probability: float = 0.0
    delay_seconds: Range = (1.0, 10.0)
    duplicate_probability: float = 0.0
    reorder_probability: float = 0.0

    def __post_init__(self) -> None:
        for name in ("delay_probability", "duplicate_probability", "reorder_probability"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        low, high = self.delay_seconds
        if not 0.0 <= low <= high:
            raise ValueError("delay_seconds must be a range (low, high) with 0 <= low <= high")

    @property
    def active(self) -> bool:
        """True if any fault can happen."""
        return (
            self.delay_probability > 0
            or self.duplicate_probability > 0
            or self.reorder_probability > 0
        )


NO_FAULTS = EventFaults()


class EventOutbox:
    """Posts one call's events to its events URL in the background.

    :meth:`post` never waits; :meth:`drain` waits until every event (delayed ones included)
    has been delivered.
    """

    __slots__ = ("_clock", "_delayed", "_faults", "_held", "_pending", "_rng", "_send",
                 "_worker", "url")  # fmt: skip

    def __init__(
        self, url: str, send: Sender, clock: Clock, faults: EventFaults, rng: random.Random
    ) -> None:
        self.url = url
        self._send = send
        self._clock = clock
        self._faults = faults
        self._rng = rng
        self._pending: deque[WebhookRequest] = deque()
        self._held: WebhookRequest | None = None
        self._worker: asyncio.Task[None] | None = None
        self._delayed: list[asyncio.Task[None]] = []

    def post(self, fields: tuple[tuple[str, str], ...]) -> None:
        """Queue one event for delivery."""
        self._pending.append(WebhookRequest(self.url, fields, WebhookKind.EVENT))
        if self._worker is None or self._worker.done():
            # The worker counts as an activity: virtual time stands still while an event is
            # in flight, so the journal's times do not depend on how fast the app answered.
            self._clock.join()
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def drain(self) -> None:
        """Deliver everything still pending, held back or delayed."""
        while self._worker is not None and not self._worker.done():
            await self._worker
        if self._held is not None:
            held, self._held = self._held, None
            await self._send(held)
        if self._delayed:
            # Waiting for tasks that wait on the clock: step aside so virtual time can move.
            self._clock.leave()
            try:
                await asyncio.gather(*self._delayed)
            finally:
                self._clock.join()

    def cancel(self) -> None:
        """Give up on every event not yet delivered (the call was cancelled: a reset).

        Nothing more is posted for the call, and no task of it outlives it.
        """
        self._pending.clear()
        self._held = None
        for task in (self._worker, *self._delayed):
            if task is not None:
                task.cancel()
        self._delayed.clear()

    async def _work(self) -> None:
        try:
            await self._work_through_pending()
        finally:
            self._clock.leave()

    async def _work_through_pending(self) -> None:
        while self._pending:
            request = self._pending.popleft()
            if not self._faults.active:
                await self._send(request)
                continue
            # Always three draws per event, so the fault stream stays aligned with events.
            reorder, delay, duplicate = self._rng.random(), self._rng.random(), self._rng.random()
            if reorder < self._faults.reorder_probability and self._held is None:
                self._held = request  # sent after the next event
                continue
            if delay < self._faults.delay_probability:
                self._start_delayed(request, draw(self._faults.delay_seconds, self._rng))
            else:
                await self._send(request)
                if duplicate < self._faults.duplicate_probability:
                    await self._send(request)
            if self._held is not None:
                held, self._held = self._held, None
                await self._send(held)

    def _start_delayed(self, request: WebhookRequest, seconds: float) -> None:
        self._clock.join()  # the delay runs on the call's clock, virtual or real
        task = asyncio.get_running_loop().create_task(self._deliver_later(request, seconds))
        self._delayed.append(task)

    async def _deliver_later(self, request: WebhookRequest, seconds: float) -> None:
        try:
            await self._clock.sleep(seconds)
            await self._send(request)
        finally:
            self._clock.leave()
