"""A call's side of a bridge: what it waits on, whom it is paired with, what it records.

One :class:`BridgeState` belongs to one call and is changed only through its methods, so the
bridging code (:mod:`at_voice_kit.simulator.engine.bridging`) can hand a transfer or a queue
match to *another* call without reaching into its fields: it offers the message, and the
other call's state says whether anyone was waiting for it.
"""

from __future__ import annotations

from datetime import datetime

from at_voice_kit.simulator.engine.clock import Clock, Wakeup
from at_voice_kit.simulator.engine.signals import BridgeMessage, QueueMatch


class BridgeState:
    """Waits of a bridged or enqueued call, its queue partner and its Dial recording."""

    __slots__ = ("_match", "_peer", "_recorded_from", "_transfer")

    def __init__(self) -> None:
        self._transfer: Wakeup | None = None
        self._match: Wakeup | None = None
        self._peer: str | None = None
        self._recorded_from: datetime | None = None

    # -- waiting, and being woken by another call or /callTransfer ------------------------

    async def wait_bridged(self, clock: Clock, seconds: float) -> BridgeMessage | None:
        """Stay bridged up to ``seconds``; a transfer or a dropped bridge ends the wait early."""
        self._transfer = wakeup = Wakeup()
        try:
            message = await clock.wait(wakeup, seconds)
        finally:
            self._transfer = None
        assert message is None or isinstance(message, BridgeMessage)
        return message

    def offer(self, message: BridgeMessage) -> bool:
        """Hand ``message`` to the bridge's wait; False if the call is not waiting for one
        (not bridged, or already leaving it: hanging up, or being transferred itself)."""
        wakeup = self._transfer
        return wakeup is not None and wakeup.fire(message)

    @property
    def can_be_transferred(self) -> bool:
        """True while the call waits in a bridge and nothing has woken it yet."""
        return self._transfer is not None and not self._transfer.fired

    async def wait_in_queue(self, clock: Clock, seconds: float) -> QueueMatch | None:
        """Wait up to ``seconds`` for a Dequeue to pick this call."""
        self._match = wakeup = Wakeup()
        try:
            match = await clock.wait(wakeup, seconds)
        finally:
            self._match = None
        assert match is None or isinstance(match, QueueMatch)
        return match

    @property
    def waiting_in_queue(self) -> bool:
        """True while the call waits in a queue and no Dequeue has picked it yet."""
        return self._match is not None and not self._match.fired

    def pick(self, match: QueueMatch) -> bool:
        """A Dequeue picks this call; False if it stopped waiting meanwhile."""
        wakeup = self._match
        return wakeup is not None and wakeup.fire(match)

    # -- the other call of a queue bridge -------------------------------------------------

    @property
    def peer(self) -> str | None:
        """The session id of the call this one is bridged with through a queue (Enqueue and
        Dequeue bridge two calls of the platform; Dial bridges a leg, not a call)."""
        return self._peer

    def pair_with(self, session_id: str | None) -> None:
        """From now on this call talks to call ``session_id`` (``None``: to no call)."""
        self._peer = session_id

    def unpair(self) -> str | None:
        """Forget the queue partner; return whom it was."""
        peer, self._peer = self._peer, None
        return peer

    # -- recording a Dial bridge ----------------------------------------------------------

    def start_recording(self, at: datetime) -> None:
        """Dial ``record="true"``: the bridge is recorded from ``at``."""
        self._recorded_from = at

    def stop_recording(self, at: datetime) -> float | None:
        """Stop recording; return the recorded seconds, or ``None`` if nothing was recorded."""
        started, self._recorded_from = self._recorded_from, None
        return None if started is None else (at - started).total_seconds()
