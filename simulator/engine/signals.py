"""What is passed around a call's run: the signals that end it, and the messages one call
hands another through a :class:`~at_voice_kit.simulator.engine.clock.Wakeup` (a Dequeue
picking a queued caller, ``/callTransfer`` reaching a bridged call)."""

from __future__ import annotations

from dataclasses import dataclass

from at_voice_kit.simulator.engine.outcomes import Ending


class CallOver(Exception):
    """Raised anywhere in a call's flow to end it with ``ending``, for ``reason``."""

    def __init__(self, ending: Ending, reason: str) -> None:
        super().__init__(reason)
        self.ending = ending
        self.reason = reason


class AppFailure(Exception):
    """The app's answer cannot drive the call (error status, unreachable, invalid XML)."""


@dataclass(frozen=True, slots=True)
class QueueMatch:
    """Sent to an enqueued call when a Dequeue picks it: whom it talks to, for how long."""

    partner_number: str
    seconds: float
    partner_session_id: str | None = None


@dataclass(frozen=True, slots=True)
class TransferOrder:
    """A ``/callTransfer`` for a bridged call."""

    phone_number: str
    call_leg: str
    hold_music_url: str | None = None


@dataclass(frozen=True, slots=True)
class BridgeDropped:
    """Sent to a call bridged through a queue when the other call transferred it away."""

    reason: str
