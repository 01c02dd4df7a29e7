"""Scale: a thousand calls live at once in one process, each small in memory."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Mapping

from at_voice_kit.simulator.engine import CallEngine
from tests.simulator.engine.harness import APP, AT_NUMBER, EVENTS, EngineHarness, xml


class ConcurrencyMeter:
    """A fake app that counts calls between their first and their final request."""

    def __init__(self) -> None:
        self.live = 0
        self.peak = 0

    def __call__(self, form: Mapping[str, str]) -> str:
        if form["isActive"] == "0":
            self.live -= 1
            return ""
        self.live += 1
        self.peak = max(self.peak, self.live)
        return xml("<Say>" + "Please hold while we connect you. " * 3 + "</Say>")


def numbers(count: int) -> list[str]:
    return [f"+2547{10_000_000 + i:08d}" for i in range(count)]


def test_a_thousand_calls_are_live_at_once() -> None:
    count = 1000
    h = EngineHarness(seed=2)
    meter = ConcurrencyMeter()
    h.app(meter)
    for number in numbers(count):
        h.script(number, answer="answered")

    async def main(engine: CallEngine) -> None:
        calls = [engine.place_call(n, AT_NUMBER, APP, events_url=EVENTS) for n in numbers(count)]
        records = await asyncio.gather(*(c.result() for c in calls))
        assert all(r.ending.cause.value == "NORMAL_CLEARING" for r in records)

    asyncio.run(main(h.engine()))
    # Answers come within ~18 s and each call then talks for ~7 s: in virtual time most
    # calls overlap; hundreds are in flow simultaneously in one process and one thread.
    assert meter.peak >= 300
    assert meter.live == 0
    finals = [e for _, e in h.journal.entries if e.request.form().get("isActive") == "0"]
    assert len([f for f in finals if f.request.kind.value == "callback"]) == count


def test_a_live_call_costs_a_few_kilobytes() -> None:
    count = 300
    h = EngineHarness(seed=3)
    h.app(lambda form: xml('<GetDigits timeout="30"><Say>Hold</Say></GetDigits>'))

    async def main(engine: CallEngine) -> int:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            calls = [engine.place_call(n, AT_NUMBER, APP) for n in numbers(count)]
            await asyncio.sleep(0)
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        await engine.aclose()
        assert all(c.task.done() for c in calls)
        return used

    used = asyncio.run(main(h.engine()))
    assert used / count < 32 * 1024
