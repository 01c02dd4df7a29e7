"""Connecting the phone user to another party: Dial, Enqueue/Dequeue, and /callTransfer.

A bridged call lasts until either party hangs up (their scripts, or a drawn conversation
length) or Dial's ``maxDuration`` ends it; ``Dial`` and a picked ``Dequeue`` are terminal,
so the call ends with the bridge. While bridged, a call waits in its
:class:`~at_voice_kit.simulator.engine.bridge_state.BridgeState`, which ``/callTransfer``
wakes (:func:`request_transfer`). A call is seen only as a
:class:`~at_voice_kit.simulator.engine.call_line.CallLine`.

Transfer semantics (AT documents only the parameters): ``callLeg`` names the leg that is
*replaced* by ``phoneNumber``. ``callee`` (the default): the dialled party drops out, the new
number rings (the phone user hears ``holdMusicUrl``), and if it answers the phone user talks
to it; if it does not, AT hangs up. ``caller``: the phone user's own leg is handed over to the
new number, so their session ends there (``NORMAL_CLEARING``). A call bridged through a queue
(Enqueue and Dequeue) talks to another call of the platform, which the transfer moves too: the
replaced call ends (``callee``), or talks to the new number from then on (``caller``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from at_voice_kit.contracts.actionxml.model import Dequeue, Dial, Enqueue
from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.contracts.vocabulary import HangupCause
from at_voice_kit.simulator.engine.call_line import CallLine
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.dial_plan import LegPlan, plan_dial
from at_voice_kit.simulator.engine.outcomes import ANSWERED_ENDING
from at_voice_kit.simulator.engine.phone_user import PhoneUser
from at_voice_kit.simulator.engine.records import LegRecord
from at_voice_kit.simulator.engine.signals import (
    BridgeDropped,
    CallOver,
    QueueMatch,
    TransferOrder,
)
from at_voice_kit.simulator.engine.states import CallState
from at_voice_kit.simulator.engine.timing import draw

CALL_LEGS = ("caller", "callee")


def leg_plan(call: CallLine, number: str) -> LegPlan:
    """Decide what a dialled number does, from its callee script or the distribution."""
    options = call.options
    script = call.ports.callees.script_for(number)
    party = PhoneUser(number, script, call.rng, options.timing)
    answer = party.answer(options.outcomes)
    ring = options.outcomes.draw_ring_seconds(answer, call.rng)
    cause = None
    if answer is not CalleeAnswer.ANSWERED:
        cause = party.scripted_cause() or options.outcomes.draw_cause(
            answer, call.rng, sip="@" in number
        )
    return LegPlan(number, ring, cause, script.hangup_after if script else None)


def talk_seconds(call: CallLine, party_hangs_up_after: float | None) -> float:
    """How long the other party stays: their script, else a drawn conversation."""
    if party_hangs_up_after is not None:
        return party_hangs_up_after
    return draw(call.options.timing.talk, call.rng)


async def dial(call: CallLine, action: Dial) -> None:
    """Ring the numbers; bridge the first to answer (terminal), or go on if nobody does."""
    legs = [leg_plan(call, number) for number in action.phone_numbers]
    call.note(
        f"Dial {', '.join(action.phone_numbers)}" + (" (sequential)" if action.sequential else "")
    )
    plan = plan_dial(legs, sequential=bool(action.sequential), caller_leaves_after=call.remaining())
    await call.clock.sleep(plan.ring_seconds)
    call.add_legs(plan.legs)
    if plan.caller_hung_up or call.person_left():
        raise call.user_hangup("the phone user hung up while the Dial was ringing")
    if plan.winner is None:
        call.note("Dial: nobody answered")
        return
    talk = talk_seconds(call, plan.winner.hangup_after)
    if action.max_duration is not None:
        talk = min(talk, float(action.max_duration))
    call.advance(CallState.BRIDGED, peer_number=plan.winner.number)
    connected_at = call.connect_party(plan.winner.number)
    if action.record:
        call.bridge.start_recording(connected_at)
    await bridge(call, talk, "the dialled party hung up (or maxDuration was reached)")


async def bridge(call: CallLine, seconds: float, other_side_leaves: str) -> None:
    """Stay bridged for ``seconds``, unless the user hangs up or a transfer comes in."""
    clock = call.clock
    ends_at = clock.now() + timedelta(seconds=seconds)
    while True:
        left = max((ends_at - clock.now()).total_seconds(), 0.0)
        remaining = call.remaining()
        user_first = remaining is not None and remaining <= left
        message = await call.bridge.wait_bridged(
            clock, remaining if user_first and remaining is not None else left
        )
        if message is None:
            if user_first or call.person_left():
                raise call.user_hangup("the phone user hung up")
            raise CallOver(ANSWERED_ENDING, other_side_leaves)
        if isinstance(message, BridgeDropped):
            raise CallOver(ANSWERED_ENDING, message.reason)
        seconds = await transfer(call, message)
        ends_at = clock.now() + timedelta(seconds=seconds)
        other_side_leaves = f"the transfer target {message.phone_number} hung up"


async def transfer(call: CallLine, order: TransferOrder) -> float:
    """Carry out a transfer; return how long the new bridge lasts, or end the call."""
    clock = call.clock
    call.advance(
        CallState.BRIDGED,
        (("dialDestinationNumber", order.phone_number),),
        peer_number=order.phone_number,
    )
    call.release_party()
    _move_queue_peer(call, order)
    if order.call_leg == "caller":
        raise CallOver(ANSWERED_ENDING, f"the caller leg was transferred to {order.phone_number}")
    leg = leg_plan(call, order.phone_number)
    started = clock.now()
    try:
        await call.spend(leg.ring_seconds)  # the phone user hears the hold music meanwhile
    except CallOver:
        ringing = round((clock.now() - started).total_seconds(), 3)
        call.add_legs((LegRecord(leg.number, ringing, HangupCause.ORIGINATOR_CANCEL),))
        raise
    call.add_legs((LegRecord(leg.number, leg.ring_seconds, leg.cause),))
    if not leg.answers:
        raise CallOver(ANSWERED_ENDING, f"the transfer target did not answer ({leg.cause})")
    call.connect_party(leg.number)
    return talk_seconds(call, leg.hangup_after)


def _move_queue_peer(call: CallLine, order: TransferOrder) -> None:
    """A call bridged through a queue talks to another call: the transfer moves it too.

    ``callee``: the other call is the replaced party, so it ends. ``caller``: this call's
    leg is replaced, so the other call now talks to the new number, as if its own callee had
    been transferred there.
    """
    peer_id = call.bridge.unpair()
    peer = call.lookup(peer_id) if peer_id is not None else None
    if peer is None or peer.bridge.peer != call.session_id:
        return
    peer.bridge.unpair()
    # False when it is leaving the bridge already (hanging up, or being transferred itself).
    if order.call_leg == "caller":
        peer.bridge.offer(TransferOrder(order.phone_number, "callee", order.hold_music_url))
    else:
        peer.bridge.offer(
            BridgeDropped(f"the other party transferred the call to {order.phone_number}")
        )


def _queue_number(raw: str) -> str:
    try:
        return normalise_international(raw)
    except InvalidPhoneNumber:
        return raw.strip()


async def enqueue(call: CallLine, action: Enqueue) -> None:
    """Wait in the number's queue until a Dequeue picks this call or the caller gives up."""
    queues, name = call.ports.queues, action.name or ""
    queues.enqueue(call.at_number, name, call.session_id)
    call.advance(CallState.ENQUEUED)
    call.note(f"Enqueue in {name or 'the default queue'}")
    patience = draw(call.options.timing.queue_patience, call.rng)
    remaining = call.remaining()
    match = await call.bridge.wait_in_queue(
        call.clock, patience if remaining is None else min(patience, remaining)
    )
    if match is None:
        queues.remove(call.at_number, name, call.session_id)
        raise call.user_hangup("the caller hung up while waiting in the queue")
    call.bridge.pair_with(match.partner_session_id)
    call.advance(CallState.BRIDGED, peer_session_id=match.partner_session_id)
    call.note(f"dequeued: talking to {match.partner_number}")
    await bridge(call, match.seconds, "the agent hung up")


async def dequeue(call: CallLine, action: Dequeue) -> None:
    """Connect this call to the next caller in the queue; an empty queue ends the call."""
    queues, name = call.ports.queues, action.name or ""
    at_number = _queue_number(action.phone_number)
    while True:
        session_id = queues.dequeue(at_number, name)
        if session_id is None:
            raise CallOver(ANSWERED_ENDING, "Dequeue found the queue empty: AT hung up")
        other = call.lookup(session_id)
        if other is None or not other.bridge.waiting_in_queue:
            continue  # that caller is gone already
        talk = talk_seconds(call, None)
        for remaining in (call.remaining(), other.remaining()):
            if remaining is not None:
                talk = min(talk, remaining)
        if other.bridge.pick(QueueMatch(call.phone_number, talk, call.session_id)):
            break
    call.bridge.pair_with(other.session_id)
    call.advance(CallState.BRIDGED, peer_session_id=other.session_id)
    call.note(f"Dequeue: talking to {other.phone_number}")
    await bridge(call, talk, "the queued caller hung up")


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """The answer to ``/callTransfer``: ``Success``, or ``Aborted`` with the reason."""

    status: str
    error_message: str

    @property
    def ok(self) -> bool:
        """True if the transfer was accepted."""
        return self.status == "Success"


def request_transfer(
    call: CallLine | None, phone_number: str, call_leg: str, hold_music_url: str | None
) -> TransferOutcome:
    """Validate a ``/callTransfer`` and hand it to the bridged call (which carries it out)."""
    if call is None or call.state is CallState.ENDED:
        return TransferOutcome("Aborted", "Invalid sessionId: no such active call")
    if call_leg not in CALL_LEGS:
        return TransferOutcome("Aborted", "callLeg must be 'caller' or 'callee'")
    try:
        number = normalise_international(phone_number)
    except InvalidPhoneNumber as exc:
        return TransferOutcome("Aborted", f"phoneNumber {exc.rule}")
    if call.state is not CallState.BRIDGED or not call.bridge.can_be_transferred:
        return TransferOutcome("Aborted", "the call has no second leg to transfer (not bridged)")
    call.bridge.offer(TransferOrder(number, call_leg, hold_music_url))
    return TransferOutcome("Success", "None")
