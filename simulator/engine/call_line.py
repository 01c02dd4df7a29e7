"""What the ActionXML flow and the bridging code may do with a live call, as two Protocols.

The runner (:mod:`at_voice_kit.simulator.engine.runner`) owns a call's state and implements
these; :mod:`~at_voice_kit.simulator.engine.flow` and
:mod:`~at_voice_kit.simulator.engine.bridging` see a call only through them. So the engine's
imports run one way (runner -> flow -> bridging -> this leaf), and no module sets another's
fields: every change to a call goes through one of the operations below.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from at_voice_kit.contracts.actionxml.model import Response
from at_voice_kit.simulator.engine.bridge_state import BridgeState
from at_voice_kit.simulator.engine.clock import Clock
from at_voice_kit.simulator.engine.live_caller import LiveCaller
from at_voice_kit.simulator.engine.options import EngineOptions, EnginePorts
from at_voice_kit.simulator.engine.payloads import Fields
from at_voice_kit.simulator.engine.phone_user import PhoneUser
from at_voice_kit.simulator.engine.records import LegRecord
from at_voice_kit.simulator.engine.signals import CallOver
from at_voice_kit.simulator.engine.states import CallState


class CallLine(Protocol):
    """A live call as the bridging code sees it: who, when, and its side of a bridge."""

    @property
    def session_id(self) -> str:
        """The call's ``sessionId``."""
        ...

    @property
    def phone_number(self) -> str:
        """The phone user's number."""
        ...

    @property
    def at_number(self) -> str:
        """The app's AT number."""
        ...

    @property
    def state(self) -> CallState:
        """Where the call is now."""
        ...

    @property
    def clock(self) -> Clock:
        """The engine's clock."""
        ...

    @property
    def options(self) -> EngineOptions:
        """How calls behave."""
        ...

    @property
    def ports(self) -> EnginePorts:
        """The engine's connections (queues, callees, recordings, ...)."""
        ...

    @property
    def rng(self) -> random.Random:
        """The call's own seeded random stream."""
        ...

    @property
    def user(self) -> PhoneUser:
        """The phone user on this call."""
        ...

    @property
    def bridge(self) -> BridgeState:
        """The call's side of a bridge."""
        ...

    def lookup(self, session_id: str) -> CallLine | None:
        """Another live call of the same engine, by session id."""
        ...

    def note(self, text: str) -> None:
        """Add a line to the call's readable timeline."""
        ...

    def remaining(self) -> float | None:
        """Seconds until the phone user hangs up, or None if they will not."""
        ...

    async def spend(self, seconds: float) -> None:
        """Let ``seconds`` of the call pass, unless the phone user hangs up first."""
        ...

    def advance(
        self,
        target: CallState,
        extra: Fields = (),
        *,
        peer_session_id: str | None = None,
        peer_number: str | None = None,
    ) -> None:
        """Change state, posting the event the transition table names for it."""
        ...

    def user_hangup(self, reason: str = "the phone user hung up") -> CallOver:
        """The signal for the phone user hanging up now."""
        ...

    def person_left(self) -> bool:
        """True once the person on the line (the dev phone), if any, hung up."""
        ...

    def add_legs(self, legs: Iterable[LegRecord]) -> None:
        """Record legs a Dial or a transfer rang."""
        ...

    def connect_party(self, number: str) -> datetime:
        """The phone user talks to ``number`` from now, which is returned (the dial fields of
        the final request)."""
        ...

    def release_party(self) -> None:
        """The connected party left (``dialDurationInSeconds`` stops running)."""
        ...


class AppCallLine(CallLine, Protocol):
    """A live call as the ActionXML flow sees it: also the app's URL and recordings."""

    async def fetch_or_fail(self, extra: Fields = (), url: str | None = None) -> Response:
        """Ask the app for its next document; end the call the way AT does if it fails."""
        ...

    def follow(self, url: str) -> None:
        """Post the call's callback requests to ``url`` from now on (Redirect, Record)."""
        ...

    def store_recording(self, speech_seconds: float, silence_seconds: float) -> str:
        """Store a recording of the call; return its URL."""
        ...

    def keep_final_recording(self, url: str) -> None:
        """Send ``url`` as the final request's ``recordingUrl``."""
        ...

    @property
    def live(self) -> LiveCaller | None:
        """The person on the line (the dev phone), or ``None`` for a simulated phone user."""
        ...

    def store_audio(self, wav: bytes, seconds: float) -> str:
        """Store what the person on the line recorded (a WAV); return its URL."""
        ...


@dataclass(frozen=True, slots=True)
class EngineContext:
    """What every call of one engine shares; ``lookup`` finds another live call."""

    clock: Clock
    ports: EnginePorts
    options: EngineOptions
    seed: int | str
    lookup: Callable[[str], CallLine | None] = field(default=lambda _: None)
