"""Clocks: virtual time jumps to the next deadline once every activity waits; real time scales."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest

from at_voice_kit.simulator.engine.clock import (
    DEFAULT_EPOCH,
    LineClock,
    RealClock,
    VirtualClock,
    Wakeup,
    clock_for_speed,
)

EPOCH = datetime(2025, 5, 5, 12, 0, 0)


def test_virtual_sleeps_wake_in_deadline_order_at_their_virtual_times() -> None:
    clock = VirtualClock(EPOCH)
    woke: list[tuple[str, datetime]] = []

    async def sleeper(name: str, seconds: float) -> None:
        try:
            await clock.sleep(seconds)
            woke.append((name, clock.now()))
        finally:
            clock.leave()

    async def main() -> None:
        tasks = []
        for name, seconds in (("slow", 3600.0), ("fast", 1.5), ("mid", 60.0)):
            clock.join()
            tasks.append(asyncio.create_task(sleeper(name, seconds)))
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert woke == [
        ("fast", EPOCH + timedelta(seconds=1.5)),
        ("mid", EPOCH + timedelta(seconds=60)),
        ("slow", EPOCH + timedelta(seconds=3600)),
    ]


def test_virtual_time_stands_still_while_an_activity_runs() -> None:
    clock = VirtualClock(EPOCH)
    seen: list[datetime] = []

    async def busy() -> None:
        try:
            for _ in range(50):  # e.g. waiting for an app: yields, but never on the clock
                await asyncio.sleep(0)
                seen.append(clock.now())
        finally:
            clock.leave()

    async def sleeper() -> None:
        try:
            await clock.sleep(10)
        finally:
            clock.leave()

    async def main() -> None:
        clock.join()
        clock.join()
        await asyncio.gather(busy(), sleeper())

    asyncio.run(main())
    assert set(seen) == {EPOCH}
    assert clock.now() == EPOCH + timedelta(seconds=10)


def test_wakeup_fired_before_timeout_delivers_its_value() -> None:
    clock = VirtualClock(EPOCH)
    results: list[object] = []

    async def waiter(wakeup: Wakeup) -> None:
        try:
            results.append(await clock.wait(wakeup, 100))
            results.append(clock.now())
        finally:
            clock.leave()

    async def firer(wakeup: Wakeup) -> None:
        try:
            await clock.sleep(30)
            results.append(wakeup.fire("dequeued"))
        finally:
            clock.leave()

    async def main() -> None:
        wakeup = Wakeup()
        clock.join()
        clock.join()
        await asyncio.gather(waiter(wakeup), firer(wakeup))

    asyncio.run(main())
    assert results == [True, "dequeued", EPOCH + timedelta(seconds=30)]


def test_wakeup_after_timeout_reports_the_waiter_gone() -> None:
    clock = VirtualClock(EPOCH)
    wakeup = Wakeup()

    async def main() -> object:
        clock.join()
        try:
            return await clock.wait(wakeup, 5)
        finally:
            clock.leave()

    assert asyncio.run(main()) is None
    assert clock.now() == EPOCH + timedelta(seconds=5)
    assert wakeup.fire("too late") is False


def test_real_clock_runs_from_its_start_and_waits_for_wakeups() -> None:
    start = datetime(2024, 1, 1)
    clock = RealClock(speed=1000.0, start=start)
    wakeup = Wakeup()

    async def main() -> object:
        asyncio.get_running_loop().call_soon(wakeup.fire, 42)
        value = await clock.wait(wakeup, 3600)
        await clock.sleep(0.5)  # half a millisecond of wall time
        return value

    assert asyncio.run(main()) == 42
    assert clock.now() >= start + timedelta(seconds=0.5)


def test_real_clock_wait_times_out() -> None:
    clock = RealClock(speed=1000.0)

    async def main() -> object:
        return await clock.wait(Wakeup(), 1)  # 1 ms of wall time

    assert asyncio.run(main()) is None


@pytest.mark.parametrize(
    ("speed", "kind"),
    [("fast", VirtualClock), ("FAST", VirtualClock), ("1", RealClock), (2.5, RealClock)],
)
def test_clock_for_speed(speed: str | float, kind: type) -> None:
    assert isinstance(clock_for_speed(speed), kind)


def test_clock_for_speed_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="speed must be 'fast' or a positive number"):
        clock_for_speed("warp")
    with pytest.raises(ValueError, match="positive"):
        clock_for_speed(0)


def test_virtual_epoch_is_injectable_and_defaults_sensibly() -> None:
    assert VirtualClock().now() == DEFAULT_EPOCH
    clock = VirtualClock(EPOCH)
    clock.advance(90)
    assert clock.now() == EPOCH + timedelta(seconds=90)


def test_a_line_clock_runs_in_real_time_and_a_hang_up_ends_its_waits_at_once() -> None:
    async def scenario() -> tuple[float, float, object, float, bool]:
        clock = LineClock(datetime(2025, 1, 6, 9, 0, 0))
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        await clock.sleep(0.2)
        slept = time.monotonic() - started
        loop.call_later(0.1, clock.interrupt)
        started = time.monotonic()
        await clock.sleep(600)  # a ten-minute prompt, cut short by the hang-up
        cut = time.monotonic() - started
        waited = await clock.wait(Wakeup(), 600)  # every later wait ends at once
        started = time.monotonic()
        await clock.sleep(600)
        return slept, cut, waited, time.monotonic() - started, clock.interrupted

    slept, cut, waited, later, interrupted = asyncio.run(scenario())
    assert 0.19 <= slept < 60 and cut < 60 and later < 60
    assert waited is None and interrupted
