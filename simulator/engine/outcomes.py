"""Call outcomes as data: what each callee answer means on the wire, and how often it happens.

The table maps every :class:`CalleeAnswer` to the ``callSessionState``, ``status`` and
``hangupCause`` AT reports (at-voice-api.md section 2), whether the phone rang, and how long
the network takes to reach that outcome. The default shares are a plausible picture of
outbound calling in AT's markets (most calls answered), not AT statistics: change them with
:meth:`OutcomeDistribution.with_shares`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace

from at_voice_kit.contracts.vocabulary import CallSessionState, CallStatus, HangupCause
from at_voice_kit.simulator.engine.callee import CalleeAnswer


@dataclass(frozen=True, slots=True)
class Ending:
    """How a call ended, as the final request reports it."""

    state: CallSessionState
    status: CallStatus
    cause: HangupCause


@dataclass(frozen=True, slots=True)
class AnswerRule:
    """One row of the outcome table.

    ``causes`` are ``(cause, weight)`` pairs: a busy phone is always ``USER_BUSY``, but an
    unanswered one may be ``NO_ANSWER``, ``NO_USER_RESPONSE`` or ``RECOVERY_ON_TIMER_EXPIRE``.
    ``ring_seconds`` is the range of the time from the start of ringing to the outcome (to
    pick-up for answered calls). ``rings`` says whether the phone rang at all (an unreachable
    phone never does, so no ``SessionRinging`` is posted).
    """

    answer: CalleeAnswer
    share: float
    state: CallSessionState
    status: CallStatus
    causes: tuple[tuple[HangupCause, float], ...]
    rings: bool
    ring_seconds: tuple[float, float]


NA = CallSessionState.NOT_ANSWERED

DEFAULT_RULES: tuple[AnswerRule, ...] = (
    AnswerRule(
        CalleeAnswer.ANSWERED, 0.72, CallSessionState.COMPLETED, CallStatus.SUCCESS,
        ((HangupCause.NORMAL_CLEARING, 1.0),), True, (3.0, 18.0),
    ),
    AnswerRule(
        CalleeAnswer.NO_ANSWER, 0.11, NA, CallStatus.NOT_ANSWERED,
        (
            (HangupCause.NO_ANSWER, 0.7),
            (HangupCause.NO_USER_RESPONSE, 0.2),
            (HangupCause.RECOVERY_ON_TIMER_EXPIRE, 0.1),
        ),
        True, (30.0, 60.0),
    ),
    AnswerRule(
        CalleeAnswer.BUSY, 0.07, NA, CallStatus.NOT_ANSWERED,
        ((HangupCause.USER_BUSY, 1.0),), True, (1.0, 6.0),
    ),
    AnswerRule(
        CalleeAnswer.REJECTED, 0.04, NA, CallStatus.NOT_ANSWERED,
        ((HangupCause.CALL_REJECTED, 1.0),), True, (3.0, 20.0),
    ),
    AnswerRule(
        CalleeAnswer.UNREACHABLE, 0.04, NA, CallStatus.NOT_ANSWERED,
        ((HangupCause.SUBSCRIBER_ABSENT, 0.8), (HangupCause.UNALLOCATED_NUMBER, 0.2)),
        False, (1.0, 5.0),
    ),
    AnswerRule(
        CalleeAnswer.FAILED, 0.02, NA, CallStatus.ABORTED,
        (
            (HangupCause.NORMAL_TEMPORARY_FAILURE, 0.5),
            (HangupCause.SERVICE_UNAVAILABLE, 0.3),
            (HangupCause.UNSPECIFIED, 0.2),
        ),
        False, (0.5, 3.0),
    ),
)  # fmt: skip

SIP_UNREACHABLE_CAUSE = HangupCause.USER_NOT_REGISTERED
"""An unreachable SIP address (``user@ke.sip.africastalking.com``) is not registered."""

ANSWERED_ENDING = Ending(
    CallSessionState.COMPLETED, CallStatus.SUCCESS, HangupCause.NORMAL_CLEARING
)
"""An answered call ended by AT (no more actions) or by either party hanging up."""

REJECTED_BY_APP_ENDING = Ending(NA, CallStatus.NOT_ANSWERED, HangupCause.CALL_REJECTED)
"""An inbound call the app refused with ``<Reject/>``: never answered, so free."""

APP_ERROR_ENDING = Ending(
    CallSessionState.COMPLETED, CallStatus.ABORTED, HangupCause.NORMAL_CLEARING
)
"""The app failed (invalid XML, non-2xx, unreachable, timeout): AT played an error, hung up.

AT does not document this case. The call was answered, so it is ``Completed``, and AT's side
cleared it normally (``NORMAL_CLEARING``); ``status=Aborted`` tells the app the flow broke.
"""


@dataclass(frozen=True, slots=True)
class OutcomeDistribution:
    """The outcome table plus the shares with which a call without a script draws a row."""

    rules: tuple[AnswerRule, ...] = DEFAULT_RULES

    def rule(self, answer: CalleeAnswer) -> AnswerRule:
        """The table row for ``answer``."""
        return next(r for r in self.rules if r.answer is answer)

    def draw_answer(self, rng: random.Random) -> CalleeAnswer:
        """Draw how an unscripted phone user reacts to ringing."""
        rules = [r for r in self.rules if r.share > 0]
        return rng.choices([r.answer for r in rules], weights=[r.share for r in rules])[0]

    def draw_cause(self, answer: CalleeAnswer, rng: random.Random, *, sip: bool) -> HangupCause:
        """Draw the hangup cause of an outcome (SIP addresses are unreachable differently)."""
        if sip and answer is CalleeAnswer.UNREACHABLE:
            return SIP_UNREACHABLE_CAUSE
        causes = self.rule(answer).causes
        return rng.choices([c for c, _ in causes], weights=[w for _, w in causes])[0]

    def draw_ring_seconds(self, answer: CalleeAnswer, rng: random.Random) -> float:
        """Draw how long the network takes to reach this outcome, to the millisecond."""
        low, high = self.rule(answer).ring_seconds
        return round(rng.uniform(low, high), 3)

    def with_shares(self, shares: Mapping[CalleeAnswer, float]) -> OutcomeDistribution:
        """A copy with some answers' shares replaced (e.g. ``{BUSY: 0.5}``); must stay > 0."""
        for answer, share in shares.items():
            if share < 0:
                raise ValueError(f"share of {answer.value!r} must not be negative")
        rules = tuple(replace(r, share=shares.get(r.answer, r.share)) for r in self.rules)
        if sum(r.share for r in rules) <= 0:
            raise ValueError("at least one answer must have a positive share")
        return OutcomeDistribution(rules)

    def ending(self, answer: CalleeAnswer, cause: HangupCause) -> Ending:
        """The final-request ending of a call that never connected."""
        rule = self.rule(answer)
        return Ending(rule.state, rule.status, cause)


DEFAULT_OUTCOMES = OutcomeDistribution()
