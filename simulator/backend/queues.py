"""Call queues per AT number: what ``<Enqueue>`` fills, ``<Dequeue>`` drains and
``/queueStatus`` reports.

A queue is named by the pair (AT number, queue name); AT's unnamed queue is the name ``""``.
A queue, once used, stays known (with size 0 when empty) until the simulator is reset, so
``/queueStatus`` keeps reporting it.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

DEFAULT_QUEUE_NAME = ""


@dataclass(frozen=True, slots=True)
class QueueView:
    """One queue and the session ids waiting in it, first in line first."""

    phone_number: str
    queue_name: str
    session_ids: tuple[str, ...]

    @property
    def size(self) -> int:
        """How many calls wait in the queue."""
        return len(self.session_ids)


class QueueRegistry:
    """FIFO queues of session ids by (AT number, queue name)."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._queues: dict[tuple[str, str], deque[str]] = {}

    def clear(self) -> None:
        """Forget every queue."""
        with self._lock:
            self._queues.clear()

    def enqueue(self, at_number: str, queue_name: str, session_id: str) -> None:
        """Put a call at the back of a queue (a call already in it is not added twice)."""
        with self._lock:
            queue = self._queues.setdefault((at_number, queue_name), deque())
            if session_id not in queue:
                queue.append(session_id)

    def dequeue(self, at_number: str, queue_name: str) -> str | None:
        """Take the call at the front of a queue; ``None`` if the queue is empty."""
        with self._lock:
            queue = self._queues.get((at_number, queue_name))
            if not queue:
                return None
            return queue.popleft()

    def remove(self, session_id: str) -> bool:
        """Take a call out of whatever queue holds it (a caller who hung up while waiting);
        False if no queue held it."""
        removed = False
        with self._lock:
            for queue in self._queues.values():
                if session_id in queue:
                    queue.remove(session_id)
                    removed = True
        return removed

    def sizes(self, at_number: str) -> dict[str, int]:
        """Queue name -> number of waiting calls, for every known queue of ``at_number``."""
        with self._lock:
            return {
                name: len(queue)
                for (number, name), queue in sorted(self._queues.items())
                if number == at_number
            }

    def snapshot(self) -> tuple[QueueView, ...]:
        """Every known queue with its waiting calls, sorted by number and name."""
        with self._lock:
            return tuple(
                QueueView(number, name, tuple(queue))
                for (number, name), queue in sorted(self._queues.items())
            )
