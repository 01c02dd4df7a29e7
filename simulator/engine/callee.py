"""Callee scripts: how a simulated phone user behaves, forced per number.

A script is the JSON the admin API takes at ``PUT /_simulator/callees/{number}`` (and the
config file), for example ``{"answer": "answered", "digits": ["1", "2#"], "hangupAfter": 40}``.
Every key is optional; what a script leaves out is drawn from the engine's seeded
distribution (:mod:`at_voice_kit.simulator.engine.outcomes`,
:mod:`at_voice_kit.simulator.engine.timing`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class CalleeAnswer(StrEnum):
    """What happens when the phone user's phone rings (outbound calls and Dial legs)."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


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

_KEYS = ("answer", "digits", "hangupAfter", "speechSeconds")


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
    """

    answer: CalleeAnswer | None = None
    digits: tuple[str, ...] = ()
    hangup_after: float | None = None
    speech_seconds: float | None = None

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
        return cls(
            answer=_answer(data.get("answer")),
            digits=_digits(data.get("digits")),
            hangup_after=_seconds("hangupAfter", data.get("hangupAfter")),
            speech_seconds=_seconds("speechSeconds", data.get("speechSeconds")),
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
        return out


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
