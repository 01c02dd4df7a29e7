"""The whole simulator in-process: REST surface, admin API, backend and simulated network on
one asyncio loop, with apps as Python functions (the engine's in-process delivery port).

A test writes ``async def scenario(p: Platform)`` and runs it with :func:`run_platform`; the
app is served over ASGI (``httpx.ASGITransport``), so requests go through the same resources,
middleware and journal as under ``atsim serve``, only without a socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_AT_NUMBER,
    DEFAULT_USERNAME,
    SimulatorConfig,
    Speed,
)
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.engine.memory import FakeApp, InProcessApps
from at_voice_kit.simulator.network import SimulatedNetwork
from at_voice_kit.simulator.serving.app import create_app
from tests.simulator.engine.harness import answering, xml

__all__ = ["APP", "AT", "EVENTS", "SIM", "Platform", "answering", "run_platform", "webhooks", "xml"]

APP = "http://app.test/voice"
EVENTS = "http://app.test/events"
SIM = "http://sim.test"
AT = DEFAULT_AT_NUMBER


@dataclass
class Platform:
    """A simulator whose numbers' URLs lead to in-process apps."""

    seed: int = 5
    speed: str = "fast"
    apps: InProcessApps = field(default_factory=InProcessApps)

    def __post_init__(self) -> None:
        config = SimulatorConfig(seed=self.seed, speed=Speed.parse(self.speed))
        self.backend = VoiceBackend(config)
        self.network = SimulatedNetwork.attach(self.backend, delivery=self.apps, public_url=SIM)
        self.apps.apps[EVENTS] = lambda form: "OK"
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(backend=self.backend)), base_url=SIM
        )

    def app(self, answer: FakeApp, url: str = APP) -> None:
        """Serve ``answer`` at ``url``."""
        self.apps.apps[url] = answer

    async def admin(self, method: str, path: str, body: object | None = None) -> Any:
        """An admin API request; its decoded JSON (asserting a success status)."""
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        response = await self.http.request(method, f"/_simulator/{path}", **kwargs)
        assert response.status_code < 400, response.text
        return response.json() if response.content else None

    async def wire(self, events: bool = True) -> None:
        """Point the default AT number at the app (and its events URL)."""
        await self.admin(
            "PUT", f"numbers/{AT}", {"callbackUrl": APP, "eventsUrl": EVENTS if events else None}
        )

    async def script(self, number: str, **script: Any) -> None:
        """``PUT callees/{number}``."""
        await self.admin("PUT", f"callees/{number}", {"answer": "answered", **script})

    async def call(self, *numbers: str) -> list[str]:
        """``/call`` from the default number; the session ids of the queued entries."""
        response = await self.http.post(
            "/call",
            data={"username": DEFAULT_USERNAME, "from": AT, "to": ",".join(numbers)},
            headers={"apiKey": DEFAULT_API_KEY},
        )
        assert response.status_code == 200, response.text
        return [e["sessionId"] for e in response.json()["entries"] if e["status"] == "Queued"]

    async def ended(self, session_id: str, limit: int = 20_000) -> dict[str, Any]:
        """Let the loop run until the call has ended; its admin document with the journal."""
        for _ in range(limit):
            call = self.backend.calls.get(session_id)
            if call.phase.value == "ended":
                document: dict[str, Any] = await self.admin("GET", f"calls/{session_id}")
                return document
            await asyncio.sleep(0.001)
        raise AssertionError(f"call {session_id} did not end (phase {call.phase.value})")


def run_platform(scenario: Callable[[Platform], Awaitable[None]], **options: Any) -> Platform:
    """Run ``scenario`` on a fresh platform, then cancel whatever is still live."""
    platform = Platform(**options)

    async def main() -> None:
        try:
            await scenario(platform)
        finally:
            await platform.network.aclose()
            await platform.http.aclose()

    asyncio.run(main())
    return platform


def webhooks(call: Mapping[str, Any], kind: str) -> list[dict[str, str]]:
    """The forms of a call's journaled webhooks of one kind (``callback`` or ``event``)."""
    return [w["form"] for w in call["webhooks"] if w["kind"] == kind]
