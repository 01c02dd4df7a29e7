"""Same seed, callee settings and app answers: the same payloads and timings, byte for byte."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from at_voice_kit.simulator.engine import CallEngine
from at_voice_kit.simulator.engine.ports import WebhookExchange
from tests.simulator.engine.harness import APP, AT_NUMBER, EVENTS, EngineHarness, xml

NUMBERS = [f"+2547220{n:05d}" for n in range(12)]


def menu_app(form: Mapping[str, str]) -> str:
    if form["isActive"] == "0":
        return ""
    if "dtmfDigits" in form:
        if form["dtmfDigits"] == "1":
            return xml('<Record finishOnKey="#" maxLength="20"><Say>Leave a message</Say></Record>')
        return xml('<Dial phoneNumbers="+254733100200,+254733100201"/>')
    if "recordingUrl" in form:
        return xml("<Say>Thanks, goodbye</Say>")
    return xml(
        '<GetDigits numDigits="1" timeout="8"><Say>Press 1 to record, 2 to talk</Say></GetDigits>'
    )


def fingerprint(entries: list[tuple[str, WebhookExchange]]) -> list[tuple[str, str, bytes]]:
    return [(sid, e.sent_at.isoformat(), e.request.body()) for sid, e in entries]


def run_batch(seed: int, order: list[int] | None = None) -> list[tuple[str, str, bytes]]:
    h = EngineHarness(seed=seed)
    h.app(menu_app)
    h.script(NUMBERS[0], answer="answered", digits=["1"], speechSeconds=6)
    h.script(NUMBERS[1], answer="busy")

    async def main(engine: CallEngine) -> None:
        indices = order if order is not None else list(range(len(NUMBERS)))
        calls = [
            engine.place_call(
                NUMBERS[i], AT_NUMBER, APP, events_url=EVENTS, session_id=f"ATVId_{i:032x}"
            )
            for i in indices
        ]
        await asyncio.gather(*(c.result() for c in calls))

    asyncio.run(main(h.engine()))
    return sorted(fingerprint(h.journal.entries))


def test_same_seed_gives_byte_identical_journals() -> None:
    first, second = run_batch(seed=99), run_batch(seed=99)
    assert first == second
    assert len(first) > 3 * len(NUMBERS)


def test_a_different_seed_gives_different_timings() -> None:
    assert run_batch(seed=99) != run_batch(seed=100)


def test_payloads_do_not_depend_on_how_calls_interleave() -> None:
    forwards = run_batch(seed=5)
    backwards = run_batch(seed=5, order=list(reversed(range(len(NUMBERS)))))
    assert forwards == backwards


def test_seeded_session_ids_repeat() -> None:
    def ids(seed: int) -> list[str]:
        h = EngineHarness(seed=seed)
        h.app(menu_app)

        async def main(engine: CallEngine) -> list[str]:
            calls = [engine.place_call(n, AT_NUMBER, APP) for n in NUMBERS[:3]]
            await asyncio.gather(*(c.result() for c in calls))
            return [c.session_id for c in calls]

        return asyncio.run(main(h.engine()))

    assert ids(3) == ids(3) != ids(4)
    assert all(len(i) == 38 and i.startswith("ATVId_") for i in ids(3))
