"""Callee scripts: how a simulated phone user behaves, forced per number.

A script is the JSON the admin API takes at ``PUT /_simulator/callees/{number}`` (and the
config file), for example ``{"answer": "answered", "digits": ["1", "2#"], "hangupAfter": 40}``.
Every key is optional; what a script leaves out is drawn from the engine's seeded
distribution (:mod:`at_voice_kit.simulator.engine.outcomes`,
:mod:`at_voice_kit.simulator.engine.timing`).

``hangupCause`` makes an outcome exact: ``{"answer": "no-answer", "hangupCause":
"NO_USER_RESPONSE"}`` always ends with that cause instead of one drawn among AT's three for an
unanswered phone. Each answer goes with the causes AT reports for it
(:data:`CAUSES_OF_ANSWER`); another pair is refused, naming ``hangupCause``. Two of AT's 14
causes cannot be scripted: ``LOSE_RACE`` follows from which leg of a parallel Dial answers
first, ``ORIGINATOR_CANCEL`` from the caller hanging up while the phone still rings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from at_voice_kit.contracts.vocabulary import HangupCause


class CalleeAnswer(StrEnum):
    """What happens when the phone user's phone rings (outbound calls and Dial legs)."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


CAUSES_OF_ANSWER: Mapping[CalleeAnswer, tuple[HangupCause, ...]] = {
    CalleeAnswer.ANSWERED: (HangupCause.NORMAL_CLEARING,),
    CalleeAnswer.BUSY: (HangupCause.USER_BUSY,),
    CalleeAnswer.NO_ANSWER: (
        HangupCause.NO_ANSWER, HangupCause.NO_USER_RESPONSE, HangupCause.RECOVERY_ON_TIMER_EXPIRE,
    ),
    CalleeAnswer.REJECTED: (HangupCause.CALL_REJECTED,),
    CalleeAnswer.UNREACHABLE: (
        HangupCause.SUBSCRIBER_ABSENT, HangupCause.UNALLOCATED_NUMBER,
        HangupCause.USER_NOT_REGISTERED,
    ),
    CalleeAnswer.FAILED: (
        HangupCause.NORMAL_TEMPORARY_FAILURE, HangupCause.SERVICE_UNAVAILABLE,
        HangupCause.UNSPECIFIED,
    ),
}  # fmt: skip
"""The hangup causes AT reports for each way a phone reacts to ringing (at-voice-api.md
section 2 and AT's help page on hangup causes): a busy phone is ``USER_BUSY``, an unanswered
one ``NO_ANSWER``, ``NO_USER_RESPONSE`` or ``RECOVERY_ON_TIMER_EXPIRE``, an unreachable one
``SUBSCRIBER_ABSENT``, ``UNALLOCATED_NUMBER`` or (a SIP address) ``USER_NOT_REGISTERED``, a
failed network ``NORMAL_TEMPORARY_FAILURE``, ``SERVICE_UNAVAILABLE`` or ``UNSPECIFIED``."""

UNSCRIPTABLE_CAUSES: Mapping[HangupCause, str] = {
    HangupCause.LOSE_RACE: (
        "follows from the race of a parallel Dial (the numbers that did not answer first lose "
        "it); script the other numbers to answer instead"
    ),
    HangupCause.ORIGINATOR_CANCEL: (
        "follows from the caller hanging up while the phone still rings; script the caller's "
        "hangupAfter instead"
    ),
}
"""AT's causes no script can force, and why."""

ANSWER_OF_CAUSE: Mapping[HangupCause, CalleeAnswer] = {
    cause: answer for answer, causes in CAUSES_OF_ANSWER.items() for cause in causes
}


def answer_for(cause: str | None) -> str:
    """The answer a script without one means: the one ``cause`` goes with (``busy`` for
    ``USER_BUSY``), else ``answered`` (an unknown cause is left for the validation to name)."""
    if cause is not None and cause in ANSWER_OF_CAUSE:
        return ANSWER_OF_CAUSE[HangupCause(cause)].value
    return CalleeAnswer.ANSWERED.value


def cause_problem(answer: CalleeAnswer | None, cause: HangupCause) -> str | None:
    """Why ``cause`` cannot end a call the phone user reacts to with ``answer`` (``None``:
    any answer, the cause decides it), or ``None`` when the pair is possible."""
    if cause in UNSCRIPTABLE_CAUSES:
        return f"{cause.value} cannot be scripted: it {UNSCRIPTABLE_CAUSES[cause]}"
    if answer is None or cause in CAUSES_OF_ANSWER[answer]:
        return None
    allowed = ", ".join(c.value for c in CAUSES_OF_ANSWER[answer])
    return (
        f"{cause.value} goes with answer {ANSWER_OF_CAUSE[cause].value!r}, not {answer.value!r} "
        f"({answer.value!r} ends with {allowed})"
    )


def hangup_cause_named(value: object) -> HangupCause | str:
    """``value`` as one of AT's 14 hangup causes, or the rule it breaks."""
    if isinstance(value, str) and value in HangupCause._value2member_map_:
        return HangupCause(value)
    return "must be one of AT's 14 hangup causes: " + ", ".join(c.value for c in HangupCause)


class InvalidCalleeScript(ValueError):
    """A callee script that breaks a rule; ``field`` names the JSON key, ``rule`` the rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


KEYPAD = re.compile(r"^[0-9*#]*$")
MAX_DIGIT_ENTRIES = 100
MAX_KEYS_PER_ENTRY = 32
MAX_SECONDS = 86_400.0
"""A day: longer scripted durations are certainly typos, and would make calls run forever."""

_KEYS = ("answer", "digits", "hangupAfter", "speechSeconds", "hangupCause")


@dataclass(frozen=True, slots=True)
class CalleeScript:
    """The forced behaviour of one phone user.

    - ``answer``: how they react to ringing; ``None`` draws from the outcome distribution.
      Ignored for inbound calls (the user is the one calling).
    - ``digits``: one entry per ``GetDigits``, in order, each the keys pressed (``"2#"`` is
      2 then #; ``""`` presses nothing, so the GetDigits times out). Past the last entry the
      user presses nothing.
    - ``hangup_after``: seconds after the call connects at which the user hangs up, wherever
      the call is; ``None`` means they stay until AT or the other party ends the call.
    - ``speech_seconds``: how long they talk into a ``Record`` (``0`` records nothing);
      ``None`` draws a plausible length.
    - ``hangup_cause``: the exact cause the outcome ends with (one of
      :data:`CAUSES_OF_ANSWER` for ``answer``); ``None`` draws one. Like ``answer``, ignored
      for inbound calls.
    """

    answer: CalleeAnswer | None = None
    digits: tuple[str, ...] = ()
    hangup_after: float | None = None
    speech_seconds: float | None = None
    hangup_cause: HangupCause | None = None

    def __post_init__(self) -> None:
        if self.hangup_cause is not None:
            problem = cause_problem(self.answer, self.hangup_cause)
            if problem is not None:
                raise InvalidCalleeScript("hangupCause", problem)

    @classmethod
    def from_json(cls, data: object) -> CalleeScript:
        """Build a script from decoded JSON, raising InvalidCalleeScript naming the bad field."""
        if not isinstance(data, Mapping):
            raise InvalidCalleeScript("(body)", "must be a JSON object")
        for key in data:
            if key not in _KEYS:
                allowed = ", ".join(_KEYS)
                raise InvalidCalleeScript(
                    str(key) or '""', f"is not a callee script field ({allowed})"
                )
        answer = _answer(data.get("answer"))
        cause = _cause(data.get("hangupCause"))
        if answer is None and cause is not None and cause in ANSWER_OF_CAUSE:
            answer = ANSWER_OF_CAUSE[cause]  # the cause says how the phone reacted
        return cls(
            answer=answer,
            digits=_digits(data.get("digits")),
            hangup_after=_seconds("hangupAfter", data.get("hangupAfter")),
            speech_seconds=_seconds("speechSeconds", data.get("speechSeconds")),
            hangup_cause=cause,
        )

    def to_json(self) -> dict[str, object]:
        """The JSON form :meth:`from_json` reads back, leaving out unset fields."""
        out: dict[str, object] = {}
        if self.answer is not None:
            out["answer"] = self.answer.value
        if self.digits:
            out["digits"] = list(self.digits)
        if self.hangup_after is not None:
            out["hangupAfter"] = self.hangup_after
        if self.speech_seconds is not None:
            out["speechSeconds"] = self.speech_seconds
        if self.hangup_cause is not None:
            out["hangupCause"] = self.hangup_cause.value
        return out


def _cause(value: object) -> HangupCause | None:
    if value is None:
        return None
    cause = hangup_cause_named(value)
    if not isinstance(cause, HangupCause):  # a rule: HangupCause is a str too
        raise InvalidCalleeScript("hangupCause", cause)
    return cause


def _answer(value: object) -> CalleeAnswer | None:
    if value is None:
        return None
    allowed = ", ".join(repr(a.value) for a in CalleeAnswer)
    if not isinstance(value, str):
        raise InvalidCalleeScript("answer", f"must be one of {allowed}")
    try:
        return CalleeAnswer(value)
    except ValueError:
        raise InvalidCalleeScript("answer", f"must be one of {allowed}") from None


def _digits(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidCalleeScript("digits", 'must be a list of strings such as ["1", "2#"]')
    if len(value) > MAX_DIGIT_ENTRIES:
        raise InvalidCalleeScript("digits", f"must have at most {MAX_DIGIT_ENTRIES} entries")
    entries: list[str] = []
    for index, entry in enumerate(value):
        field = f"digits[{index}]"
        if not isinstance(entry, str):
            raise InvalidCalleeScript(field, "must be a string of keypad keys")
        if not KEYPAD.match(entry):
            raise InvalidCalleeScript(field, "may contain only the keys 0-9, * and #")
        if len(entry) > MAX_KEYS_PER_ENTRY:
            raise InvalidCalleeScript(field, f"must be at most {MAX_KEYS_PER_ENTRY} keys")
        entries.append(entry)
    return tuple(entries)


def _seconds(field: str, value: object) -> float | None:
    if value is None:
        return None
    # bool is an int in Python; `true` is not a duration.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCalleeScript(field, "must be a number of seconds")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_SECONDS:
        raise InvalidCalleeScript(field, f"must be between 0 and {MAX_SECONDS:g} seconds")
    return seconds
