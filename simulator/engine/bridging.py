"""Connecting the phone user to another party: Dial, Enqueue/Dequeue, and /callTransfer.

A bridged call lasts until either party hangs up (their scripts, or a drawn conversation
length) or Dial's ``maxDuration`` ends it; ``Dial`` and a picked ``Dequeue`` are terminal,
so the call ends with the bridge. While bridged, a call waits on a :class:`Wakeup` that
``/callTransfer`` fires (:func:`request_transfer`).

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
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.clock import Wakeup
from at_voice_kit.simulator.engine.dial_plan import LegPlan, plan_dial
from at_voice_kit.simulator.engine.outcomes import ANSWERED_ENDING
from at_voice_kit.simulator.engine.payloads import DialFacts
from at_voice_kit.simulator.engine.phone_user import PhoneUser
from at_voice_kit.simulator.engine.records import LegRecord
from at_voice_kit.simulator.engine.runner import CallRun
from at_voice_kit.simulator.engine.signals import (
    BridgeDropped,
    CallOver,
    QueueMatch,
    TransferOrder,
)
from at_voice_kit.simulator.engine.states import CallState
from at_voice_kit.simulator.engine.timing import draw

CALL_LEGS = ("caller", "callee")


def leg_plan(run: CallRun, number: str) -> LegPlan:
    """Decide what a dialled number does, from its callee script or the distribution."""
    options = run.context.options
    script = run.context.ports.callees.script_for(number)
    answer = PhoneUser(number, script, run.rng, options.timing).answer(options.outcomes)
    ring = options.outcomes.draw_ring_seconds(answer, run.rng)
    cause = None
    if answer is not CalleeAnswer.ANSWERED:
        cause = options.outcomes.draw_cause(answer, run.rng, sip="@" in number)
    return LegPlan(number, ring, cause, script.hangup_after if script else None)


def talk_seconds(run: CallRun, party_hangs_up_after: float | None) -> float:
    """How long the other party stays: their script, else a drawn conversation."""
    if party_hangs_up_after is not None:
        return party_hangs_up_after
    return draw(run.context.options.timing.talk, run.rng)


async def dial(run: CallRun, action: Dial) -> None:
    """Ring the numbers; bridge the first to answer (terminal), or go on if nobody does."""
    legs = [leg_plan(run, number) for number in action.phone_numbers]
    run.note(
        f"Dial {', '.join(action.phone_numbers)}" + (" (sequential)" if action.sequential else "")
    )
    plan = plan_dial(legs, sequential=bool(action.sequential), caller_leaves_after=run.remaining())
    await run.context.clock.sleep(plan.ring_seconds)
    run.legs.extend(plan.legs)
    if plan.caller_hung_up or run.person_left():
        raise run.user_hangup("the phone user hung up while the Dial was ringing")
    if plan.winner is None:
        run.note("Dial: nobody answered")
        return
    talk = talk_seconds(run, plan.winner.hangup_after)
    if action.max_duration is not None:
        talk = min(talk, float(action.max_duration))
    run.advance(CallState.BRIDGED, peer_number=plan.winner.number)
    now = run.context.clock.now()
    run.facts.dial = DialFacts(plan.winner.number, now)
    if action.record:
        run.bridge_recorded_from = now
    await bridge(run, talk, "the dialled party hung up (or maxDuration was reached)")


async def bridge(run: CallRun, seconds: float, other_side_leaves: str) -> None:
    """Stay bridged for ``seconds``, unless the user hangs up or a transfer comes in."""
    clock = run.context.clock
    ends_at = clock.now() + timedelta(seconds=seconds)
    while True:
        left = max((ends_at - clock.now()).total_seconds(), 0.0)
        remaining = run.remaining()
        user_first = remaining is not None and remaining <= left
        run.transfer_wakeup = wakeup = Wakeup()
        order = await clock.wait(
            wakeup, remaining if user_first and remaining is not None else left
        )
        run.transfer_wakeup = None
        if order is None:
            if user_first or run.person_left():
                raise run.user_hangup("the phone user hung up")
            raise CallOver(ANSWERED_ENDING, other_side_leaves)
        if isinstance(order, BridgeDropped):
            raise CallOver(ANSWERED_ENDING, order.reason)
        assert isinstance(order, TransferOrder)
        seconds = await transfer(run, order)
        ends_at = clock.now() + timedelta(seconds=seconds)
        other_side_leaves = f"the transfer target {order.phone_number} hung up"


async def transfer(run: CallRun, order: TransferOrder) -> float:
    """Carry out a transfer; return how long the new bridge lasts, or end the call."""
    clock = run.context.clock
    run.advance(
        CallState.BRIDGED,
        (("dialDestinationNumber", order.phone_number),),
        peer_number=order.phone_number,
    )
    if run.facts.dial is not None:
        run.facts.dial.ended_at = clock.now()
    _move_queue_peer(run, order)
    if order.call_leg == "caller":
        raise CallOver(ANSWERED_ENDING, f"the caller leg was transferred to {order.phone_number}")
    leg = leg_plan(run, order.phone_number)
    started = clock.now()
    try:
        await run.spend(leg.ring_seconds)  # the phone user hears the hold music meanwhile
    except CallOver:
        ringing = round((clock.now() - started).total_seconds(), 3)
        run.legs.append(LegRecord(leg.number, ringing, HangupCause.ORIGINATOR_CANCEL))
        raise
    run.legs.append(LegRecord(leg.number, leg.ring_seconds, leg.cause))
    if not leg.answers:
        raise CallOver(ANSWERED_ENDING, f"the transfer target did not answer ({leg.cause})")
    run.facts.dial = DialFacts(leg.number, clock.now())
    return talk_seconds(run, leg.hangup_after)


def _move_queue_peer(run: CallRun, order: TransferOrder) -> None:
    """A call bridged through a queue talks to another call: the transfer moves it too.

    ``callee``: the other call is the replaced party, so it ends. ``caller``: this call's
    leg is replaced, so the other call now talks to the new number, as if its own callee had
    been transferred there.
    """
    peer = run.context.lookup(run.queue_peer) if run.queue_peer is not None else None
    run.queue_peer = None
    if peer is None or peer.queue_peer != run.facts.session_id:
        return
    peer.queue_peer = None
    wakeup = peer.transfer_wakeup
    if wakeup is None or wakeup.fired:
        return  # it is leaving the bridge already (hanging up, or being transferred itself)
    if order.call_leg == "caller":
        wakeup.fire(TransferOrder(order.phone_number, "callee", order.hold_music_url))
    else:
        wakeup.fire(BridgeDropped(f"the other party transferred the call to {order.phone_number}"))


def close_bridge(run: CallRun) -> None:
    """At the end of a call: close the connected leg and store a Dial recording."""
    now = run.context.clock.now()
    if run.facts.dial is not None and run.facts.dial.ended_at is None:
        run.facts.dial.ended_at = now
    if run.bridge_recorded_from is not None:
        seconds = (now - run.bridge_recorded_from).total_seconds()
        recording = run.context.ports.recordings.add(run.facts.session_id, seconds, 0.0)
        run.recordings.append(recording.url)
        run.facts.final_recording_url = recording.url
        run.bridge_recorded_from = None


def _queue_number(raw: str) -> str:
    try:
        return normalise_international(raw)
    except InvalidPhoneNumber:
        return raw.strip()


async def enqueue(run: CallRun, action: Enqueue) -> None:
    """Wait in the number's queue until a Dequeue picks this call or the caller gives up."""
    queues, name = run.context.ports.queues, action.name or ""
    queues.enqueue(run.facts.at_number, name, run.facts.session_id)
    run.advance(CallState.ENQUEUED)
    run.note(f"Enqueue in {name or 'the default queue'}")
    patience = draw(run.context.options.timing.queue_patience, run.rng)
    remaining = run.remaining()
    run.queue_wakeup = wakeup = Wakeup()
    match = await run.context.clock.wait(
        wakeup, patience if remaining is None else min(patience, remaining)
    )
    run.queue_wakeup = None
    if match is None:
        queues.remove(run.facts.at_number, name, run.facts.session_id)
        raise run.user_hangup("the caller hung up while waiting in the queue")
    assert isinstance(match, QueueMatch)
    run.queue_peer = match.partner_session_id
    run.advance(CallState.BRIDGED, peer_session_id=match.partner_session_id)
    run.note(f"dequeued: talking to {match.partner_number}")
    await bridge(run, match.seconds, "the agent hung up")


async def dequeue(run: CallRun, action: Dequeue) -> None:
    """Connect this call to the next caller in the queue; an empty queue ends the call."""
    queues, name = run.context.ports.queues, action.name or ""
    at_number = _queue_number(action.phone_number)
    while True:
        session_id = queues.dequeue(at_number, name)
        if session_id is None:
            raise CallOver(ANSWERED_ENDING, "Dequeue found the queue empty: AT hung up")
        other = run.context.lookup(session_id)
        if other is None or other.queue_wakeup is None or other.queue_wakeup.fired:
            continue  # that caller is gone already
        talk = talk_seconds(run, None)
        for remaining in (run.remaining(), other.remaining()):
            if remaining is not None:
                talk = min(talk, remaining)
        match = QueueMatch(run.facts.phone_number, talk, run.facts.session_id)
        if other.queue_wakeup.fire(match):
            break
    run.queue_peer = other.facts.session_id
    run.advance(CallState.BRIDGED, peer_session_id=other.facts.session_id)
    run.note(f"Dequeue: talking to {other.facts.phone_number}")
    await bridge(run, talk, "the queued caller hung up")


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
    run: CallRun | None, phone_number: str, call_leg: str, hold_music_url: str | None
) -> TransferOutcome:
    """Validate a ``/callTransfer`` and hand it to the bridged call (which carries it out)."""
    if run is None or run.lifecycle.ended:
        return TransferOutcome("Aborted", "Invalid sessionId: no such active call")
    if call_leg not in CALL_LEGS:
        return TransferOutcome("Aborted", "callLeg must be 'caller' or 'callee'")
    try:
        number = normalise_international(phone_number)
    except InvalidPhoneNumber as exc:
        return TransferOutcome("Aborted", f"phoneNumber {exc.rule}")
    wakeup = run.transfer_wakeup
    if run.lifecycle.state is not CallState.BRIDGED or wakeup is None or wakeup.fired:
        return TransferOutcome("Aborted", "the call has no second leg to transfer (not bridged)")
    wakeup.fire(TransferOrder(number, call_leg, hold_music_url))
    return TransferOutcome("Success", "None")
