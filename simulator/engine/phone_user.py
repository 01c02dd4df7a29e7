"""The simulated phone user: answers or not, presses keys, talks, hangs up; plus the pure
rules of digit collection.

A user follows their :class:`~at_voice_kit.simulator.engine.callee.CalleeScript` where it says
something and draws the rest from the call's seeded ``random.Random``. Draws happen in the order the
call needs them, so a given seed and script always give the same behaviour.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from at_voice_kit.contracts.actionxml.model import GetDigits
from at_voice_kit.contracts.vocabulary import HangupCause
from at_voice_kit.simulator.engine.callee import CalleeAnswer, CalleeScript
from at_voice_kit.simulator.engine.outcomes import OutcomeDistribution
from at_voice_kit.simulator.engine.timing import TimingModel, draw


@dataclass(frozen=True, slots=True)
class KeyPresses:
    """Keys a user presses after a prompt, with each press's time from the end of the prompt."""

    keys: str
    times: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class DigitsOutcome:
    """What a GetDigits collected (``""``: no input) and how long it took after the prompt."""

    digits: str
    seconds: float


class DigitCollector:
    """GetDigits' rules for the keys a user presses, one key at a time.

    Collection ends at ``finish_on_key`` (not included in the digits) or at ``num_digits``
    keys. With neither ``num_digits`` nor ``finish_on_key`` AT sends the first key pressed
    (its GetDigits documentation says so). Timeouts are the caller's: a simulated user's keys
    carry their times (:func:`collect_digits`), a person's arrive as they press them.
    """

    __slots__ = ("digits", "finish_on_key", "num_digits")

    def __init__(self, *, num_digits: int | None, finish_on_key: str | None) -> None:
        self.num_digits = num_digits
        self.finish_on_key = finish_on_key
        self.digits = ""

    def press(self, key: str) -> bool:
        """Take one key; True when the collection is complete."""
        if self.finish_on_key and key in self.finish_on_key:
            return True
        self.digits += key
        if self.num_digits and len(self.digits) >= self.num_digits:
            return True
        return not self.finish_on_key and not self.num_digits


def collect_digits(
    presses: KeyPresses | None,
    *,
    num_digits: int | None,
    finish_on_key: str | None,
    timeout: float,
) -> DigitsOutcome:
    """Apply GetDigits' rules (:class:`DigitCollector`) to key presses.

    Collection also ends ``timeout`` seconds after the last key (or after the prompt, with
    no key); keys after that are lost.
    """
    collector = DigitCollector(num_digits=num_digits, finish_on_key=finish_on_key)
    last = 0.0
    for key, at in zip(presses.keys, presses.times, strict=True) if presses else ():
        if at - last > timeout:
            break
        last = at
        if collector.press(key):
            return DigitsOutcome(collector.digits, at)
    return DigitsOutcome(collector.digits, round(last + timeout, 3))


class PhoneUser:
    """One phone user on one call: a script (maybe none) and the call's random stream."""

    __slots__ = ("_next_entry", "number", "rng", "script", "timing")

    def __init__(
        self, number: str, script: CalleeScript | None, rng: random.Random, timing: TimingModel
    ) -> None:
        self.number = number
        self.script = script
        self.rng = rng
        self.timing = timing
        self._next_entry = 0

    def answer(self, outcomes: OutcomeDistribution) -> CalleeAnswer:
        """How they react to their phone ringing."""
        if self.script is not None and self.script.answer is not None:
            return self.script.answer
        return outcomes.draw_answer(self.rng)

    def scripted_cause(self) -> HangupCause | None:
        """The exact hangup cause their script gives the outcome, or None to draw one."""
        return self.script.hangup_cause if self.script is not None else None

    def hangup_after(self) -> float | None:
        """Seconds after connecting at which they hang up, or None to stay on the line.

        Scripted users hang up exactly when their script says (or never); unscripted ones
        occasionally hang up mid-flow, as real callers do.
        """
        if self.script is not None:
            return self.script.hangup_after
        if self.rng.random() < self.timing.early_hangup_share:
            return draw(self.timing.early_hangup, self.rng)
        return None

    def key_presses(
        self, action: GetDigits, finish_on_key: str | None, timeout: float
    ) -> KeyPresses | None:
        """The keys they press for this GetDigits (None: they press nothing).

        A user who means to answer does so within the window: no gap exceeds half the
        timeout, so a scripted entry is never lost to a short ``timeout``.
        """
        keys = (
            self._scripted_keys()
            if self.script is not None
            else self._random_keys(action, finish_on_key)
        )
        if not keys:
            return None
        times: list[float] = []
        gap_cap = timeout / 2
        at = min(draw(self.timing.first_key, self.rng), gap_cap)
        for _ in keys:
            times.append(at)
            at = round(at + min(draw(self.timing.next_key, self.rng), gap_cap), 3)
        return KeyPresses(keys, tuple(times))

    def speech_seconds(self) -> float:
        """How long they talk into a recording."""
        if self.script is not None and self.script.speech_seconds is not None:
            return self.script.speech_seconds
        return draw(self.timing.user_speech, self.rng)

    def silence_patience(self) -> float:
        """How long they wait in silence (nothing ends a recording) before hanging up."""
        return draw(self.timing.silence_patience, self.rng)

    def _scripted_keys(self) -> str:
        assert self.script is not None
        if self._next_entry >= len(self.script.digits):
            return ""
        entry = self.script.digits[self._next_entry]
        self._next_entry += 1
        return entry

    def _random_keys(self, action: GetDigits, finish_on_key: str | None) -> str:
        if self.rng.random() < self.timing.no_input_share:
            return ""
        count = action.num_digits or self.rng.randint(1, 4)
        digits = "".join(self.rng.choice("0123456789") for _ in range(count))
        if finish_on_key and not action.num_digits:
            digits += finish_on_key[0]
        return digits
