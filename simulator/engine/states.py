"""The call as a state machine: states, the transitions between them (as data), no I/O.

The runner (:mod:`at_voice_kit.simulator.engine.runner`) is the only code that advances a
:class:`CallLifecycle`; every transition it makes is checked against :data:`TRANSITIONS`, and
the lifecycle event AT posts to the events URL for it is read from the same table, so the
events a call emits can never disagree with the states it went through.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from at_voice_kit.contracts.vocabulary import EventType


class CallState(StrEnum):
    """Where a call is. ``ENDED`` is the only final state."""

    QUEUED = "queued"
    """Accepted by ``/call`` (or arriving inbound), not yet ringing."""
    RINGING = "ringing"
    """The phone user's phone rings (outbound), or AT is asking the app (inbound)."""
    ANSWERED = "answered"
    """Picked up: ``callStartTime`` is set, billing runs."""
    NOT_ANSWERED = "not-answered"
    """Never connected: busy, no answer, rejected, unreachable, failed, or rejected by the app."""
    IN_FLOW = "in-flow"
    """Executing the app's ActionXML."""
    BRIDGED = "bridged"
    """Connected to another party by ``Dial`` or ``Dequeue``."""
    ENQUEUED = "enqueued"
    """Waiting in a queue after ``Enqueue``."""
    ENDED = "ended"


TRANSITIONS: Mapping[tuple[CallState, CallState], EventType | None] = {
    (CallState.QUEUED, CallState.RINGING): EventType.SESSION_RINGING,
    # Unreachable numbers and network failures never ring.
    (CallState.QUEUED, CallState.NOT_ANSWERED): None,
    (CallState.RINGING, CallState.ANSWERED): EventType.SESSION_ANSWERED,
    (CallState.RINGING, CallState.NOT_ANSWERED): None,
    (CallState.ANSWERED, CallState.IN_FLOW): None,
    (CallState.IN_FLOW, CallState.BRIDGED): None,
    (CallState.IN_FLOW, CallState.ENQUEUED): EventType.SESSION_QUEUED,
    (CallState.ENQUEUED, CallState.BRIDGED): None,
    # /callTransfer keeps the call bridged, to a new party.
    (CallState.BRIDGED, CallState.BRIDGED): EventType.SESSION_TRANSFERRED,
    (CallState.NOT_ANSWERED, CallState.ENDED): EventType.SESSION_FAILED,
    (CallState.IN_FLOW, CallState.ENDED): EventType.SESSION_ENDED,
    (CallState.BRIDGED, CallState.ENDED): EventType.SESSION_ENDED,
    (CallState.ENQUEUED, CallState.ENDED): EventType.SESSION_ENDED,
}
"""Every legal ``(from, to)`` transition and the event AT posts for it (``None``: no event).

A call that was answered ends with ``SessionEnded``; one that never connected with
``SessionFailed`` (the service docs: "Call failed to connect").
"""

INITIAL_EVENT = EventType.SESSION_STARTED
"""Posted when the call comes into existence (``QUEUED``)."""


class IllegalTransition(RuntimeError):
    """The runner tried a transition :data:`TRANSITIONS` does not allow: an engine bug."""

    def __init__(self, current: CallState, target: CallState) -> None:
        super().__init__(f"a call cannot go from {current.value!r} to {target.value!r}")
        self.current = current
        self.target = target


class CallLifecycle:
    """The state of one call and when it entered each state; pure, no I/O, no clock.

    ``history`` keeps ``(state, at)`` pairs so a call's timeline can be shown and tested.
    """

    __slots__ = ("answered_at", "history", "state")

    def __init__(self, created_at: datetime) -> None:
        self.state = CallState.QUEUED
        self.history: list[tuple[CallState, datetime]] = [(CallState.QUEUED, created_at)]
        self.answered_at: datetime | None = None

    def advance(self, target: CallState, at: datetime) -> EventType | None:
        """Move to ``target`` at ``at``; return the event to post, or raise IllegalTransition."""
        key = (self.state, target)
        if key not in TRANSITIONS:
            raise IllegalTransition(self.state, target)
        if target is CallState.ANSWERED:
            self.answered_at = at
        self.state = target
        self.history.append((target, at))
        return TRANSITIONS[key]

    @property
    def ended(self) -> bool:
        """True once the call reached ``ENDED``."""
        return self.state is CallState.ENDED

    @property
    def was_answered(self) -> bool:
        """True if the call was ever picked up (it is billed and ends with SessionEnded)."""
        return self.answered_at is not None

    def entered(self, state: CallState) -> datetime | None:
        """When the call first entered ``state``, or ``None`` if it never did."""
        return next((at for s, at in self.history if s is state), None)
