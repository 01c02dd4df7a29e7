"""Clocks: real time (optionally sped up) and virtual time (``--speed fast``).

Both give the engine ``now()``, ``sleep()`` and a :class:`Wakeup` to wait on with a timeout
(a queued caller waiting to be dequeued, a bridge waiting for ``/callTransfer``).

The virtual clock is a discrete-event scheduler over asyncio. Virtual time stands still while
any *activity* (a call's runner, between :meth:`Clock.join` and :meth:`Clock.leave`) is
running, and so also while a webhook is in flight; when every activity is waiting on the
clock, time jumps to the earliest deadline and wakes that waiter. A call therefore completes
in milliseconds of wall time, its payloads carry realistic timings, and those timings depend
only on the call's own draws and the app's answers, never on how fast the app answered or
how calls interleaved. Its epoch is injectable so that output is byte-identical across runs.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

DEFAULT_EPOCH = datetime(2025, 1, 6, 9, 0, 0)
"""Where virtual time starts unless told otherwise (a Monday morning)."""

_TIMED_OUT = object()


class Wakeup:
    """A one-shot signal a call waits on with :meth:`Clock.wait`; :meth:`fire` passes a value.

    ``fire`` returns False when nobody can receive the value any more (the waiter already
    timed out, or the wakeup was fired before): the sender then knows the other side is gone.
    """

    __slots__ = ("_closed", "_future", "_resolve", "_value")

    def __init__(self) -> None:
        self._future: asyncio.Future[object] | None = None
        self._resolve: _Resolver | None = None
        self._value: object = None
        self._closed = False

    def fire(self, value: object) -> bool:
        """Deliver ``value`` to the waiter; False if it already timed out or was fired."""
        if self._closed:
            return False
        self._closed = True
        self._value = value
        if self._future is not None and self._resolve is not None:
            self._resolve(self._future, value)
        return True

    @property
    def fired(self) -> bool:
        """True once :meth:`fire` or a timeout closed this wakeup."""
        return self._closed


class _Resolver(Protocol):
    def __call__(self, future: asyncio.Future[object], value: object) -> bool: ...


class Clock(Protocol):
    """What the engine needs from time. ``now()`` is naive UTC, as AT's timestamps are naive."""

    @property
    def is_virtual(self) -> bool:
        """True when time is simulated (webhook latency must then be simulated too)."""
        ...

    def now(self) -> datetime:
        """The current (possibly virtual) time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of clock time pass."""
        ...

    async def wait(self, wakeup: Wakeup, timeout: float) -> object | None:
        """The value ``wakeup`` is fired with, or ``None`` after ``timeout`` clock seconds."""
        ...

    def join(self) -> None:
        """An activity starts: virtual time must not move while it runs."""
        ...

    def leave(self) -> None:
        """An activity ended."""
        ...


class RealClock:
    """Wall-clock time, optionally ``speed`` times faster (``speed=10``: a minute in 6 s).

    ``now()`` starts at ``start`` (default: the real UTC time) and runs ``speed`` times fast.
    """

    is_virtual = False

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be a positive number")
        self.speed = speed
        self._start = start or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """The scaled current time."""
        return self._start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds / speed`` of wall time."""
        await asyncio.sleep(max(seconds, 0.0) / self.speed)

    async def wait(self, wakeup: Wakeup, timeout: float) -> object | None:
        """Wait for ``wakeup`` at most ``timeout / speed`` wall seconds."""
        if wakeup.fired:
            return wakeup._value
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        wakeup._future, wakeup._resolve = future, _set_result
        try:
            return await asyncio.wait_for(future, max(timeout, 0.0) / self.speed)
        except TimeoutError:
            wakeup._closed = True
            return None

    def join(self) -> None:
        """Nothing to account for in real time."""

    def leave(self) -> None:
        """Nothing to account for in real time."""


class LineClock(RealClock):
    """Wall-clock time for a call with a person on it, whose waits a hang-up cuts short.

    A person listens and answers in real time, whatever the simulator's speed, so their call
    runs on its own clock: it starts at ``start`` (the engine's time when the call began, so
    the call's timeline reads on from there) and runs at the speed of the wall clock. When the
    person hangs up, :meth:`interrupt` ends every wait under way and every later one at once:
    the call notices the hang-up wherever it is (the runner checks its deadline after each
    wait) instead of sleeping out a prompt nobody hears.
    """

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(1.0, start)
        self._interrupted = False
        self._waiters: set[asyncio.Future[object]] = set()

    @property
    def interrupted(self) -> bool:
        """True once :meth:`interrupt` was called."""
        return self._interrupted

    def interrupt(self) -> None:
        """End every wait now, and every later one at once."""
        self._interrupted = True
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(_TIMED_OUT)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of wall time, or until :meth:`interrupt`."""
        if self._interrupted or seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        await self._until(waiter, seconds)

    async def wait(self, wakeup: Wakeup, timeout: float) -> object | None:
        """The value ``wakeup`` is fired with; ``None`` after ``timeout`` wall seconds or once
        interrupted."""
        if wakeup.fired:
            return wakeup._value
        if self._interrupted:
            wakeup._closed = True
            return None
        waiter: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        wakeup._future, wakeup._resolve = waiter, _set_result
        value = await self._until(waiter, timeout)
        if value is _TIMED_OUT:
            wakeup._closed = True
            return None
        return value

    async def _until(self, waiter: asyncio.Future[object], seconds: float) -> object:
        self._waiters.add(waiter)
        try:
            return await asyncio.wait_for(waiter, max(seconds, 0.0))
        except TimeoutError:
            return _TIMED_OUT
        finally:
            self._waiters.discard(waiter)


def _set_result(future: asyncio.Future[object], value: object) -> bool:
    if future.done():
        return False
    future.set_result(value)
    return True


class VirtualClock:
    """Simulated time that jumps forward whenever every activity waits on the clock."""

    is_virtual = True

    def __init__(self, epoch: datetime = DEFAULT_EPOCH) -> None:
        self._now = epoch
        self._timers: list[tuple[datetime, int, asyncio.Future[object]]] = []
        self._sequence = itertools.count()
        self._active = 0
        self._advance_scheduled = False

    def now(self) -> datetime:
        """The current virtual time."""
        return self._now

    def join(self) -> None:
        """Count one more running activity."""
        self._active += 1

    def leave(self) -> None:
        """Count one running activity less, and move time on if none is left."""
        self._active -= 1
        self._schedule_advance()

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by hand (for the admin API and tests)."""
        self._now += timedelta(seconds=max(seconds, 0.0))

    async def sleep(self, seconds: float) -> None:
        """Wait until virtual time reaches ``now + seconds``."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future = self._timer(seconds)
        await self._block(future)

    async def wait(self, wakeup: Wakeup, timeout: float) -> object | None:
        """Wait for ``wakeup`` or for ``timeout`` virtual seconds, whichever comes first."""
        if wakeup.fired:
            return wakeup._value
        future = self._timer(max(timeout, 0.0))
        wakeup._future, wakeup._resolve = future, self._resolve
        value = await self._block(future)
        if value is _TIMED_OUT:
            wakeup._closed = True
            return None
        return value

    def _timer(self, seconds: float) -> asyncio.Future[object]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        due = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._timers, (due, next(self._sequence), future))
        return future

    async def _block(self, future: asyncio.Future[object]) -> object:
        # The waiting activity no longer counts as running; whoever resolves the future
        # counts it again, before it gets to run, so time cannot move under its feet.
        self._active -= 1
        self._schedule_advance()
        try:
            return await future
        except asyncio.CancelledError:
            if future.cancelled():
                self._active += 1
            raise

    def _resolve(self, future: asyncio.Future[object], value: object) -> bool:
        if future.done():
            return False
        self._active += 1
        future.set_result(value)
        return True

    def _schedule_advance(self) -> None:
        if self._active <= 0 and not self._advance_scheduled:
            self._advance_scheduled = True
            asyncio.get_running_loop().call_soon(self._advance)

    def _advance(self) -> None:
        self._advance_scheduled = False
        if self._active > 0:
            return
        while self._timers:
            due, _, future = heapq.heappop(self._timers)
            if future.done():
                continue
            self._now = max(self._now, due)
            self._resolve(future, _TIMED_OUT)
            return


def clock_for_speed(speed: str | float, epoch: datetime | None = None) -> Clock:
    """The clock for a ``--speed`` value: ``fast`` is virtual, a number scales real time."""
    if isinstance(speed, str):
        if speed.strip().lower() == "fast":
            return VirtualClock(epoch or DEFAULT_EPOCH)
        try:
            speed = float(speed)
        except ValueError:
            raise ValueError("speed must be 'fast' or a positive number") from None
    return RealClock(speed, epoch)
