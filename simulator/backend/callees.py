"""What a called phone does: answer or not, which keys it presses, when it hangs up.

Scenarios are data (house principle 8): a test sets a callee's behaviour, then places a call;
the call engine reads :meth:`CalleeRegistry.behaviour_for` to decide how the call unfolds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

from simulator.backend.exceptions import UnknownCallee


class CalleeAnswer(StrEnum):
    """How the called phone reacts when it rings."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CalleeBehaviour:
    """A called phone's script.

    ``digits`` are the DTMF inputs it gives, one per ``GetDigits`` prompt in order (each a
    string of ``0-9*#``, e.g. ``"2#"``); ``hangup_after`` is when it hangs up, in seconds after
    answering (``None``: it stays until the app ends the call).
    """

    answer: CalleeAnswer = CalleeAnswer.ANSWERED
    digits: tuple[str, ...] = ()
    hangup_after: float | None = None


class CalleeRegistry:
    """Callee behaviours by E.164 number, with a default for every other number."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._callees: dict[str, CalleeBehaviour] = {}
        self._default = CalleeBehaviour()

    def load(self, callees: dict[str, CalleeBehaviour], default: CalleeBehaviour) -> None:
        """Replace every callee and the default (start-up and reset)."""
        with self._lock:
            self._callees = dict(callees)
            self._default = default

    @property
    def default(self) -> CalleeBehaviour:
        """What a number without its own behaviour does."""
        with self._lock:
            return self._default

    def behaviour_for(self, phone_number: str) -> CalleeBehaviour:
        """The behaviour of ``phone_number``: its own if set, else the default."""
        with self._lock:
            return self._callees.get(phone_number, self._default)

    def get(self, phone_number: str) -> CalleeBehaviour:
        """The behaviour set for exactly this number, or :class:`UnknownCallee`."""
        with self._lock:
            behaviour = self._callees.get(phone_number)
        if behaviour is None:
            raise UnknownCallee(phone_number)
        return behaviour

    def all(self) -> tuple[tuple[str, CalleeBehaviour], ...]:
        """Every number with its own behaviour, sorted by number."""
        with self._lock:
            return tuple(sorted(self._callees.items()))

    def put(self, phone_number: str, behaviour: CalleeBehaviour) -> bool:
        """Set a number's behaviour; True if the number had none before."""
        with self._lock:
            created = phone_number not in self._callees
            self._callees[phone_number] = behaviour
            return created

    def delete(self, phone_number: str) -> None:
        """Forget a number's behaviour (it falls back to the default)."""
        with self._lock:
            if self._callees.pop(phone_number, None) is None:
                raise UnknownCallee(phone_number)
