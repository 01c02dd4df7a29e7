"""Whether this process's writes are committing: the memory behind an honest readiness probe.

A probe that only reads (``SELECT 1``) says ready while nothing can be stored: on a full
disk, a read-only file or database, a deleted file. Writing on every probe would cost a
commit (a flush to disk) per probe. So the store remembers what became of its last commit
attempt: after a failure that says the store cannot write (``failures.is_store_failure``;
not a lock or a timeout, which say nothing about the store), readiness answers 503 until a
write commits again. That write is a webhook's, or, when none comes (a load balancer sends
none to an instance that is not ready), one trial write made by a probe, at most every
:data:`TRIAL_WRITE_INTERVAL_SECONDS`. On the happy path nothing is written for a probe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from at_voice_kit.service.store.database import Faults
from at_voice_kit.service.store.failures import failure_reason, is_store_failure

log = logging.getLogger("at_voice_kit.service.store")

TRIAL_WRITE_INTERVAL_SECONDS = 5.0
"""While writes fail and none is attempted, a probe tries one after this long."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether the store can take a write now, and if not, why (for the probe's answer)."""

    ready: bool
    reason: str = ""


READY = Readiness(ready=True)


@dataclass(frozen=True, slots=True)
class _Failure:
    reason: str
    since: float
    count: int


class WriteHealth:
    """The outcome of this process's last commit attempt, and when a trial write is due."""

    def __init__(self, faults: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self._faults = faults
        self._clock = clock
        self._lock = threading.Lock()
        self._failure: _Failure | None = None
        self._last_attempt = 0.0

    def succeeded(self) -> None:
        """A commit returned: the store can write."""
        if self._failure is None:  # the hot path: one attribute read
            return
        with self._lock:
            failure, self._failure = self._failure, None
            self._last_attempt = self._clock()
        if failure is not None:
            log.warning(
                "event store: writes commit again, after %d failed over %.1f s; ready",
                failure.count,
                self._last_attempt - failure.since,
            )

    def failed(self, error: BaseException) -> None:
        """A commit attempt raised ``error``; remembered if it says the store cannot write."""
        if not is_store_failure(error, self._faults):
            return
        reason = failure_reason(error)
        with self._lock:
            now = self._clock()
            first = self._failure is None
            since = now if self._failure is None else self._failure.since
            count = 1 if self._failure is None else self._failure.count + 1
            self._failure = _Failure(reason, since, count)
            self._last_attempt = now
        if first:
            log.error("event store: a write failed; not ready until one commits: %s", reason)

    def failure(self) -> str | None:
        """Why the last commit attempt failed, or ``None`` if it committed."""
        failure = self._failure
        return None if failure is None else failure.reason

    def trial_due(self) -> bool:
        """True while writes fail and none was attempted for a while."""
        with self._lock:
            return (
                self._failure is not None
                and self._clock() - self._last_attempt >= TRIAL_WRITE_INTERVAL_SECONDS
            )
