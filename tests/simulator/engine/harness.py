"""A small harness for engine tests: in-memory ports, a virtual clock, fake apps.

A test builds an :class:`EngineHarness`, registers fake apps (functions from the posted
form to ActionXML), and runs calls to completion with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from at_voice_kit.simulator.engine import (
    CalleeScript,
    CallEngine,
    EngineOptions,
    EnginePorts,
    RecordingStore,
    VirtualClock,
)
from at_voice_kit.simulator.engine.memory import (
    FakeApp,
    InMemoryCallees,
    InMemoryJournal,
    InMemoryQueues,
    InProcessApps,
)
from at_voice_kit.simulator.engine.ports import WebhookExchange, WebhookKind
from at_voice_kit.simulator.engine.records import CallRecord

APP = "http://app.test/voice"
EVENTS = "http://app.test/events"
AT_NUMBER = "+254711082000"
USER = "+254711082369"  # Safaricom
EPOCH = datetime(2025, 3, 3, 8, 0, 0)
DEFAULT_EPOCH_SHIFT = EPOCH


def xml(*actions: str) -> str:
    """An ActionXML document with the given action elements."""
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(actions) + "</Response>"


def ok_events(_: Mapping[str, str]) -> str:
    return "OK"


@dataclass
class EngineHarness:
    """Ports, engine and fake apps for one test."""

    seed: int | str = 1
    options: EngineOptions = field(default_factory=EngineOptions)
    journal: InMemoryJournal = field(default_factory=InMemoryJournal)
    queues: InMemoryQueues = field(default_factory=InMemoryQueues)
    callees: InMemoryCallees = field(default_factory=InMemoryCallees)
    recordings: RecordingStore = field(default_factory=lambda: RecordingStore("http://sim.test"))
    apps: InProcessApps = field(default_factory=InProcessApps)
    epoch: datetime = EPOCH

    def __post_init__(self) -> None:
        self.apps.apps[EVENTS] = ok_events
        self.records: list[CallRecord] = []

    def engine(self) -> CallEngine:
        ports = EnginePorts(
            self.apps,
            self.journal,
            self.queues,
            self.callees,
            self.recordings,
            on_call_end=self.records.append,
        )
        return CallEngine(
            ports, clock=VirtualClock(self.epoch), seed=self.seed, options=self.options
        )

    def app(self, answer: FakeApp, url: str = APP) -> None:
        self.apps.apps[url] = answer

    def script(self, number: str, **json: Any) -> None:
        self.callees.scripts[number] = CalleeScript.from_json(json)

    def run(self, start: Callable[[CallEngine], Awaitable[CallRecord]]) -> CallRecord:
        async def main() -> CallRecord:
            return await start(self.engine())

        return asyncio.run(main())

    def call(self, number: str = USER, events: bool = True, **kw: Any) -> CallRecord:
        """Place one outbound call and run it to its end."""
        return self.run(
            lambda e: e.place_call(
                number, AT_NUMBER, APP, events_url=EVENTS if events else None, **kw
            ).result()
        )

    def dial_in(self, number: str = USER, events: bool = True) -> CallRecord:
        """Run one inbound call from ``number`` to the AT number."""
        return self.run(
            lambda e: e.dial_in(
                number, AT_NUMBER, APP, events_url=EVENTS if events else None
            ).result()
        )

    def callbacks(self, session_id: str) -> list[WebhookExchange]:
        return self.journal.for_session(session_id, WebhookKind.CALLBACK)

    def forms(self, session_id: str) -> list[dict[str, str]]:
        return [e.request.form() for e in self.callbacks(session_id)]

    def events(self, session_id: str) -> list[dict[str, str]]:
        return [e.request.form() for e in self.journal.for_session(session_id, WebhookKind.EVENT)]


def answering(*documents: str) -> Callable[[Mapping[str, str]], str]:
    """A fake app that answers live requests with ``documents`` in turn (then empty)."""
    remaining = list(documents)

    def app(form: Mapping[str, str]) -> str:
        if form.get("isActive") == "0":
            return ""
        return remaining.pop(0) if remaining else ""

    return app
