"""What a phone user does: answer or not, which keys they press, when they hang up.

Scenarios are data (house principle 8): a test scripts a number, then places a call; the call
engine asks :meth:`CalleeRegistry.script_for` how that phone user behaves. The script type is
the engine's :class:`~at_voice_kit.simulator.engine.callee.CalleeScript`, the one definition of a
callee behaviour shared by the admin API, the config file and the engine.

A number nobody scripted has no script (``None``) unless the configuration sets a
``defaultCallee``: the engine then draws its behaviour from the seeded outcome distribution
(most calls answered; busy, no answer, rejected, unreachable, failed for the rest).
"""

from __future__ import annotations

import threading

from at_voice_kit.simulator.backend.exceptions import UnknownCallee
from at_voice_kit.simulator.engine.callee import CalleeAnswer, CalleeScript

__all__ = ["CalleeAnswer", "CalleeRegistry", "CalleeScript"]


class CalleeRegistry:
    """Callee scripts by E.164 number, with an optional default for every other number.

    It is the engine's callee directory port (``script_for``) as well as the admin API's store.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._callees: dict[str, CalleeScript] = {}
        self._default: CalleeScript | None = None

    def load(self, callees: dict[str, CalleeScript], default: CalleeScript | None) -> None:
        """Replace every callee and the default (start-up and reset)."""
        with self._lock:
            self._callees = dict(callees)
            self._default = default

    @property
    def default(self) -> CalleeScript | None:
        """What a number without its own script does; ``None``: drawn at random."""
        with self._lock:
            return self._default

    def script_for(self, number: str) -> CalleeScript | None:
        """The script of ``number``: its own if set, else the default (``None``: random)."""
        with self._lock:
            return self._callees.get(number, self._default)

    def get(self, phone_number: str) -> CalleeScript:
        """The script set for exactly this number, or :class:`UnknownCallee`."""
        with self._lock:
            script = self._callees.get(phone_number)
        if script is None:
            raise UnknownCallee(phone_number)
        return script

    def all(self) -> tuple[tuple[str, CalleeScript], ...]:
        """Every number with its own script, sorted by number."""
        with self._lock:
            return tuple(sorted(self._callees.items()))

    def put(self, phone_number: str, script: CalleeScript) -> bool:
        """Set a number's script; True if the number had none before."""
        with self._lock:
            created = phone_number not in self._callees
            self._callees[phone_number] = script
            return created

    def delete(self, phone_number: str) -> None:
        """Forget a number's script (it falls back to the default)."""
        with self._lock:
            if self._callees.pop(phone_number, None) is None:
                raise UnknownCallee(phone_number)
