"""Who picks up when a Dial rings several numbers: pure planning, no clock, no I/O.

Each leg's fate is decided up front (its callee script, or a draw): whether it would answer
and after how many seconds of ringing. Parallel (AT's default): every leg rings at once, the
first to answer wins, and every other leg still ringing then gets ``LOSE_RACE``. Sequential:
legs ring one after another until one answers; later legs are never rung. If the caller hangs
up first, the legs still ringing get ``ORIGINATOR_CANCEL``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from at_voice_kit.contracts.vocabulary import HangupCause
from at_voice_kit.simulator.engine.records import LegRecord


@dataclass(frozen=True, slots=True)
class LegPlan:
    """What one leg would do: answer after ``ring_seconds`` (``cause`` None), or fail so."""

    number: str
    ring_seconds: float
    cause: HangupCause | None
    hangup_after: float | None = None
    """Seconds into the bridge at which this party hangs up (its script), if it says."""

    @property
    def answers(self) -> bool:
        """True if this leg would pick up."""
        return self.cause is None


@dataclass(frozen=True, slots=True)
class DialPlan:
    """The outcome of a Dial: the connected leg (if any), the ringing time, every leg's fate."""

    winner: LegPlan | None
    ring_seconds: float
    legs: tuple[LegRecord, ...]
    caller_hung_up: bool = False


def plan_dial(
    legs: Sequence[LegPlan], *, sequential: bool, caller_leaves_after: float | None = None
) -> DialPlan:
    """Decide a Dial's outcome; ``caller_leaves_after`` is when the caller hangs up, if ever."""
    plan = _sequential(legs) if sequential else _parallel(legs)
    if caller_leaves_after is None or caller_leaves_after >= plan.ring_seconds:
        return plan
    return _caller_left(legs, sequential=sequential, at=caller_leaves_after)


def _parallel(legs: Sequence[LegPlan]) -> DialPlan:
    answering = [leg for leg in legs if leg.answers]
    if not answering:
        ring = max((leg.ring_seconds for leg in legs), default=0.0)
        return DialPlan(
            None, ring, tuple(LegRecord(x.number, x.ring_seconds, x.cause) for x in legs)
        )
    winner = min(answering, key=lambda leg: leg.ring_seconds)  # ties: the first listed
    records: list[LegRecord] = []
    for leg in legs:
        if leg is winner:
            records.append(LegRecord(leg.number, leg.ring_seconds, None))
        elif leg.answers or leg.ring_seconds >= winner.ring_seconds:
            records.append(LegRecord(leg.number, winner.ring_seconds, HangupCause.LOSE_RACE))
        else:
            records.append(LegRecord(leg.number, leg.ring_seconds, leg.cause))
    return DialPlan(winner, winner.ring_seconds, tuple(records))


def _sequential(legs: Sequence[LegPlan]) -> DialPlan:
    elapsed = 0.0
    records: list[LegRecord] = []
    for leg in legs:
        records.append(LegRecord(leg.number, leg.ring_seconds, leg.cause))
        elapsed = round(elapsed + leg.ring_seconds, 3)
        if leg.answers:
            return DialPlan(leg, elapsed, tuple(records))
    return DialPlan(None, elapsed, tuple(records))


def _caller_left(legs: Sequence[LegPlan], *, sequential: bool, at: float) -> DialPlan:
    cancel = HangupCause.ORIGINATOR_CANCEL
    records: list[LegRecord] = []
    if sequential:
        started = 0.0
        for leg in legs:
            if started + leg.ring_seconds <= at:
                records.append(LegRecord(leg.number, leg.ring_seconds, leg.cause))
                started = round(started + leg.ring_seconds, 3)
                continue
            records.append(LegRecord(leg.number, round(at - started, 3), cancel))
            break
    else:
        for leg in legs:
            if leg.ring_seconds <= at and not leg.answers:
                records.append(LegRecord(leg.number, leg.ring_seconds, leg.cause))
            else:
                records.append(LegRecord(leg.number, at, cancel))
    return DialPlan(None, at, tuple(records), caller_hung_up=True)
