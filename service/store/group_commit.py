"""Group commit: the appends that arrive together in one process share one transaction.

A durable commit costs a disk flush (an ``fsync``, milliseconds on most disks), and it is
the same flush for one event or a hundred. So the appends waiting at the same moment are
written as one batch, in one transaction, by one of them (the leader: the oldest waiting),
while the next ones queue up behind it; when the commit returns, each is answered with its
own result. Nothing is acknowledged before the commit that stored it has returned.

The scheme is LevelDB's writer queue: no background thread (nothing to restart after
gunicorn forks a worker), and a lone request pays only two uncontended locks. The leader takes
its batch only once it has passed the ``gate`` (on SQLite, the lock that lets one process
write at a time), so what arrived while another process was committing rides along.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import sqlalchemy.exc

from at_voice_kit.service.store.failures import StoreUnavailable

log = logging.getLogger("at_voice_kit.service.store")

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

DEFAULT_MAX_BATCH = 128
"""At most this many items per transaction, to bound its size and lock time."""

WHOLE_BATCH_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.InternalError,
    sqlalchemy.exc.TimeoutError,
    StoreUnavailable,
)
"""Failures of the database itself (unreachable, timed out, read-only, its file gone): every
item of the batch gets them.

Any other failure may be one bad item's fault, so the batch is retried item by item and only
that item fails.
"""


class _Waiter(Generic[ItemT, ResultT]):
    """One item waiting to be written, and what became of it.

    Its thread sleeps on ``wake``, a lock of its own taken at creation, until the leader of
    its batch releases it (the item is finished) or the leader before it does (it is now
    the oldest waiting, so it leads). Each waiter is woken once, and wakes alone: it needs
    no shared lock to get going, so the threads of a finished batch do not queue on one.
    """

    __slots__ = ("error", "finished", "item", "result", "wake")

    def __init__(self, item: ItemT) -> None:
        self.item = item
        self.wake = threading.Lock()
        self.wake.acquire()
        self.finished = False
        self.result: ResultT | None = None
        self.error: BaseException | None = None

    def outcome(self) -> ResultT:
        if self.error is not None:
            raise self.error
        assert self.finished
        return self.result  # type: ignore[return-value]


class GroupCommit(Generic[ItemT, ResultT]):
    """Funnel concurrent single-item writes into batched calls of ``write_batch``.

    ``write_batch(items)`` must write all items in one transaction and return one result
    per item, in order, once committed; if it raises, nothing of the batch was committed.
    ``after_batch()`` is run by the leader after each batch, outside the gate, once the
    batch's waiters have their results; if it raises, the error is logged, not passed on.
    """

    def __init__(
        self,
        write_batch: Callable[[Sequence[ItemT]], list[ResultT]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        gate: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
        after_batch: Callable[[], None] = lambda: None,
    ) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._gate = gate
        self._after_batch = after_batch
        self._lock = threading.Lock()
        self._queue: deque[_Waiter[ItemT, ResultT]] = deque()

    def submit(self, item: ItemT) -> ResultT:
        """Write ``item`` (with whatever else is waiting) and return its result once committed."""
        waiter: _Waiter[ItemT, ResultT] = _Waiter(item)
        with self._lock:
            self._queue.append(waiter)
            leads = self._queue[0] is waiter
        if not leads:
            waiter.wake.acquire()  # until its batch is written, or it is the oldest waiting
            if waiter.finished:
                return waiter.outcome()
        # This thread leads. It passes the gate (e.g. SQLite's one-writer lock, which another
        # process may hold for its own commit) before taking the batch, so everything that
        # queued meanwhile joins this commit rather than waiting for the next one.
        batch: list[_Waiter[ItemT, ResultT]] = []
        try:
            with self._gate():
                with self._lock:
                    batch = [self._queue[i] for i in range(min(len(self._queue), self._max_batch))]
                self._write(batch)
        except BaseException as exc:
            # Not a database error (e.g. the worker is being stopped): nobody may wait forever.
            batch = batch or [waiter]
            for member in batch:
                if not member.finished:
                    member.error, member.finished = exc, True
            raise
        finally:
            self._hand_over(batch or [waiter])
        # Housekeeping (a WAL checkpoint) by the leader, once the gate is passed on and the
        # batch answered: it holds up no other request, only the leader's own answer.
        try:
            self._after_batch()
        except Exception:
            # The leader's item is committed: its request must not fail (a retry of a live
            # callback, which is never deduplicated, would store it twice).
            log.exception("housekeeping after a group commit failed")
        return waiter.outcome()

    def _write(self, batch: list[_Waiter[ItemT, ResultT]]) -> None:
        try:
            results = self._write_batch([member.item for member in batch])
        except WHOLE_BATCH_ERRORS as exc:
            for member in batch:
                member.error, member.finished = exc, True
            return
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error, batch[0].finished = exc, True
                return
            self._write_one_by_one(batch)
            return
        for member, result in zip(batch, results, strict=True):
            member.result, member.finished = result, True

    def _write_one_by_one(self, batch: list[_Waiter[ItemT, ResultT]]) -> None:
        for member in batch:
            try:
                member.result = self._write_batch([member.item])[0]
            except Exception as exc:
                member.error = exc
            member.finished = True

    def _hand_over(self, batch: list[_Waiter[ItemT, ResultT]]) -> None:
        """Answer the batch's waiters and wake the next leader, if anyone is waiting.

        ``batch[0]`` is the leader itself, which is awake: the others are woken.
        """
        with self._lock:
            for _ in batch:
                self._queue.popleft()
            successor = self._queue[0] if self._queue else None
        for member in batch:
            if not member.finished:  # only if _write itself broke
                member.error = RuntimeError("the batch was abandoned")
                member.finished = True
        for member in batch[1:]:
            member.wake.release()
        if successor is not None:
            successor.wake.release()
