"""The engine's ports, plugged into the simulated platform's backend.

One :class:`PlatformPorts` serves one *generation*: the calls started between two resets of
the simulator. A reset closes the generation, so a call that was cancelled (or an event still
in flight) can no longer post to the app, write to the fresh journal, touch the queues or the
balance: the session ids of a seeded run come back after a reset, and stale writes would
mingle with the new calls.

What the engine sees as ports, the backend already has: its journal takes the engine's
webhook exchanges, its callee registry is the callee directory. Only queues need a small
adapter (the engine names the queue a caller leaves; the backend finds it itself).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.backend.calls import Call, CallPhase
from at_voice_kit.simulator.backend.exceptions import Conflict, NotFound
from at_voice_kit.simulator.backend.feed import CallNote
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.engine.ports import (
    WebhookDelivery,
    WebhookExchange,
    WebhookRequest,
    WebhookResult,
)
from at_voice_kit.simulator.engine.records import CallRecord, StateChange
from at_voice_kit.simulator.engine.states import CallState

log = logging.getLogger(__name__)

PHASE_OF_STATE: Mapping[CallState, CallPhase] = {
    CallState.QUEUED: CallPhase.QUEUED,
    CallState.RINGING: CallPhase.RINGING,
    CallState.ANSWERED: CallPhase.ACTIVE,
    CallState.IN_FLOW: CallPhase.ACTIVE,
    CallState.ENQUEUED: CallPhase.ACTIVE,
    CallState.BRIDGED: CallPhase.ACTIVE,
}
"""The admin API's phase for each engine state. A call becomes ``ended`` only once its final
request and events are delivered (its record is stored), so "ended" means "all sent"."""

RESET_ERROR = "not sent: the simulator was reset"


def leg_session_id(session_id: str, index: int) -> str:
    """The session id of the ``index``-th party a call was bridged to by Dial or a transfer.

    Derived from the call's own id, not drawn from the platform's sequence, so a seeded run
    hands out the same ``/call`` session ids however its calls interleave.
    """
    digest = hashlib.sha256(f"{session_id}/leg/{index}".encode()).hexdigest()
    return "ATVId_" + digest[:32]


@dataclass(slots=True)
class Generation:
    """The calls of one simulator run between two resets; ``closed`` once reset."""

    closed: bool = False
    legs: dict[str, list[str]] = field(default_factory=dict)
    """Each call's dialled parties, as their own (leg) session ids, oldest first."""
    parent_of: dict[str, str] = field(default_factory=dict)


class GuardedDelivery:
    """Delivers webhooks while the generation is open; afterwards sends nothing."""

    def __init__(self, delivery: WebhookDelivery, generation: Generation) -> None:
        self._delivery = delivery
        self._generation = generation

    async def deliver(self, request: WebhookRequest) -> WebhookResult:
        """POST the request unless the simulator has been reset since the call started."""
        if self._generation.closed:
            return WebhookResult(None, error=RESET_ERROR)
        return await self._delivery.deliver(request)


class PlatformPorts:
    """Journal, queues and state/settlement listeners of one generation, on the backend."""

    def __init__(self, backend: VoiceBackend, generation: Generation) -> None:
        self._backend = backend
        self.generation = generation

    # -- journal port -------------------------------------------------------------------

    def record_webhook(self, session_id: str, exchange: WebhookExchange) -> None:
        """Journal one webhook of a call of this generation."""
        if not self.generation.closed:
            self._backend.journal.record_webhook(session_id, exchange)

    # -- queue port ---------------------------------------------------------------------

    def enqueue(self, at_number: str, queue_name: str, session_id: str) -> None:
        """Put a call at the back of a queue (visible in /queueStatus)."""
        if not self.generation.closed:
            self._backend.queues.enqueue(at_number, queue_name, session_id)

    def dequeue(self, at_number: str, queue_name: str) -> str | None:
        """Take the first call of a queue."""
        if self.generation.closed:
            return None
        return self._backend.queues.dequeue(at_number, queue_name)

    def remove(self, at_number: str, queue_name: str, session_id: str) -> bool:
        """Take a caller who hung up out of the queue (a session waits in one queue only)."""
        if self.generation.closed:
            return False
        return self._backend.queues.remove(session_id)

    def sizes(self, at_number: str) -> Mapping[str, int]:
        """Calls waiting per queue name."""
        return self._backend.queues.sizes(at_number)

    # -- lifecycle listeners ------------------------------------------------------------

    def on_note(self, session_id: str, at: datetime, text: str) -> None:
        """Journal (and so publish) a line of a call's timeline as it happens."""
        if not self.generation.closed:
            self._backend.journal.record_note(session_id, CallNote(at, text))

    def on_state_change(self, change: StateChange) -> None:
        """Show the call's phase, and whom it is bridged to, in the admin API."""
        if self.generation.closed:
            return
        phase = PHASE_OF_STATE.get(change.state)
        try:
            if change.state is CallState.QUEUED:
                self._backend.calls.set_clock_start(change.session_id, change.at)
            elif phase is not None:
                self._backend.calls.set_phase(change.session_id, phase)
            if change.state is CallState.BRIDGED:
                self._bridge(change)
        except NotFound:  # the call was reset away while the engine still ran it
            log.debug("state change of an unknown call %s", change.session_id)

    def _bridge(self, change: StateChange) -> None:
        calls = self._backend.calls
        if change.peer_session_id is not None:
            if calls.find(change.peer_session_id) is not None:
                calls.bridge(change.session_id, change.peer_session_id)
            return
        if change.peer_number is None:
            return
        call = calls.get(change.session_id)
        legs = self.generation.legs.setdefault(change.session_id, [])
        if legs:  # a transfer: the party talked to so far drops out
            self._end_leg(legs[-1])
        leg = Call(
            session_id=leg_session_id(change.session_id, len(legs) + 1),
            username=call.username,
            direction=Direction.OUTBOUND,
            at_number=call.at_number,
            phone_number=change.peer_number,
            created_at=self._backend.now(),
            phase=CallPhase.ACTIVE,
            currency=call.currency,
        )
        calls.add(leg)
        legs.append(leg.session_id)
        self.generation.parent_of[leg.session_id] = change.session_id
        calls.bridge(change.session_id, leg.session_id)

    def _end_leg(self, leg_id: str) -> None:
        calls = self._backend.calls
        leg = calls.find(leg_id)
        if leg is None or leg.phase is CallPhase.ENDED:
            return
        calls.set_phase(leg_id, CallPhase.ENDED)
        # Only the phone user's leg is billed (see the fidelity table): the leg costs nothing.
        self._settle(leg_id, Decimal(0))

    def on_call_end(self, record: CallRecord) -> None:
        """Store the finished call, charge its cost against the reservation, end its legs."""
        if self.generation.closed:
            return
        try:
            self._backend.calls.set_record(record.session_id, record)
        except NotFound:
            return
        self._backend.journal.forget_notes(record.session_id)
        self._settle(record.session_id, Decimal(record.amount))
        for leg_id in self.generation.legs.pop(record.session_id, []):
            self._end_leg(leg_id)

    def _settle(self, session_id: str, cost: Decimal) -> None:
        try:
            self._backend.settle_call(session_id, cost)
        except (Conflict, NotFound) as exc:
            log.warning("call %s not settled: %s", session_id, exc)
