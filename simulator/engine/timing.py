"""The timing model: how long each thing takes on a simulated call, as data.

Durations are drawn from the call's seeded ``random.Random`` and rounded to the millisecond,
so the same seed gives the same timeline on any machine. All values are plausible guesses
(AT publishes none of them); every one can be changed by passing another :class:`TimingModel`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class TimingModel:
    """Every duration the engine needs, in seconds.

    - ``dial_out``: from ``/call`` accepting the call to the phone starting to ring.
    - ``speech_chars_per_second`` and ``say_pause``: text-to-speech pace (about 150 words a
      minute) and the pause after each ``Say``.
    - ``beep``: a ``playBeep`` beep. ``play``: an audio file (``Play`` fetches nothing).
    - ``first_key``, ``next_key``: a user pressing keys after a prompt.
    - ``user_speech``: how long a user talks into a ``Record``; ``silence_patience``: how long
      they then wait in silence before hanging up when nothing ends the recording.
    - ``talk``: a bridged conversation (``Dial``, ``Dequeue``).
    - ``queue_patience``: how long an enqueued caller waits before giving up.
    - ``webhook_latency``: virtual time one webhook round trip takes (a virtual clock cannot
      use the real elapsed time without losing determinism).
    - ``error_message``: AT's "an application error occurred" before it hangs up.
    - ``early_hangup_share``, ``early_hangup``: unscripted answered users who hang up
      mid-flow, and when.
    - ``no_input_share``: unscripted users who press nothing at a ``GetDigits``.
    """

    dial_out: Range = (0.5, 2.0)
    speech_chars_per_second: float = 14.0
    say_pause: float = 0.4
    beep: float = 0.5
    play: Range = (4.0, 15.0)
    first_key: Range = (1.0, 3.5)
    next_key: Range = (0.3, 0.9)
    user_speech: Range = (3.0, 20.0)
    silence_patience: Range = (4.0, 12.0)
    talk: Range = (15.0, 180.0)
    queue_patience: Range = (30.0, 240.0)
    webhook_latency: Range = (0.05, 0.4)
    error_message: float = 4.0
    early_hangup_share: float = 0.08
    early_hangup: Range = (5.0, 60.0)
    no_input_share: float = 0.1

    def say_seconds(self, text: str, *, beep: bool = False) -> float:
        """How long ``<Say>text</Say>`` plays: in proportion to its text."""
        spoken = len(" ".join(text.split())) / self.speech_chars_per_second
        return round(spoken + self.say_pause + (self.beep if beep else 0.0), 3)


def draw(span: Range, rng: random.Random) -> float:
    """A duration uniformly drawn from ``span``, to the millisecond."""
    low, high = span
    return round(rng.uniform(low, high), 3)


DEFAULT_TIMING = TimingModel()
