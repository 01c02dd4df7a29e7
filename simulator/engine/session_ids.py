"""Session ids (``ATVId_`` + 32 lowercase hex) and per-call randomness derived from a run seed.

A run has one seed. Each call's random stream is ``random.Random(f"{seed}/{session_id}")``,
so a call's draws do not depend on how many other calls ran before it or how their steps
interleaved. Seeded runs also number their session ids deterministically, so the same
sequence of ``/call`` requests gets the same ids, hence the same streams, hence the same
payloads. Unseeded runs draw their ids from :mod:`secrets` and their streams from a secret
seed: a session id is what a recording URL is made of, so it must not be guessable.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import secrets

SESSION_ID = re.compile(r"^ATVId_[0-9a-f]{32}$")
SEEDED_WARNING = "seeded: session ids and recordings are predictable, for tests only"
"""What a seeded run says about itself (banner, health): its ids follow from the seed."""


def new_run_seed() -> int:
    """A fresh secret seed for the random draws of an unseeded run's calls."""
    return secrets.randbelow(2**63)


class SessionIds:
    """Issues session ids: seeded ones are ``sha256(seed/n)``, unseeded ones are random."""

    def __init__(self, seed: int | str | None = None) -> None:
        self._seed = seed
        self._counter = itertools.count(1)

    def next(self) -> str:
        """The next session id."""
        if self._seed is None:
            return "ATVId_" + secrets.token_hex(16)
        digest = hashlib.sha256(f"{self._seed}/session/{next(self._counter)}".encode())
        return "ATVId_" + digest.hexdigest()[:32]


def call_random(seed: int | str, session_id: str, stream: str = "call") -> random.Random:
    """The random stream of one call (``stream`` separates independent uses, e.g. faults)."""
    return random.Random(f"{seed}/{session_id}/{stream}")
