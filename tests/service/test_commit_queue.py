"""Group commit on the event loop: concurrent requests share a batch written by the process's
writer thread; each gets its own result or error; none waits past the bound unless its batch
is being written; nothing refused is ever written. ``write_batch`` here records its batches
(no database)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy.exc

from at_voice_kit.service.store.commit_queue import CommitQueue, Overloaded


class RecordingWriter:
    """Writes batches by recording them; the first batch waits until ``release`` is set, so
    the items submitted meanwhile queue up behind it."""

    def __init__(self, poison: frozenset[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.poison = poison

    def __call__(self, items: Sequence[int]) -> list[str]:
        self.batches.append(list(items))
        self.started.set()
        assert self.release.wait(timeout=30)
        if self.poison & set(items):
            raise ValueError("a bad item")
        return [f"stored {item}" for item in items]


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait (30 s at most) on the loop until ``condition()`` holds."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.005)


def outcomes_of(coroutine: Awaitable[list[Any]]) -> list[Any]:
    return asyncio.run(asyncio.wait_for(coroutine, 60))  # type: ignore[arg-type]


async def submit_all(
    queue: CommitQueue[int, str], writer: RecordingWriter, count: int
) -> list[Any]:
    """Submit item 0, wait until its batch is being written, submit the rest, release."""
    first = asyncio.ensure_future(queue.submit(0))
    await eventually(writer.started.is_set, "the first batch was never written")
    rest = [asyncio.ensure_future(queue.submit(item)) for item in range(1, count)]
    await eventually(lambda: queue.waiting == count - 1, "the others never queued")
    writer.release.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_items_arriving_during_a_commit_share_the_next_batch() -> None:
    writer = RecordingWriter()
    queue: CommitQueue[int, str] = CommitQueue(writer)
    assert outcomes_of(submit_all(queue, writer, 10)) == [f"stored {i}" for i in range(10)]
    assert writer.batches == [[0], list(range(1, 10))]


def test_batches_are_bounded() -> None:
    writer = RecordingWriter()
    queue: CommitQueue[int, str] = CommitQueue(writer, max_batch=4)
    assert outcomes_of(submit_all(queue, writer, 10)) == [f"stored {i}" for i in range(10)]
    assert [len(batch) for batch in writer.batches] == [1, 4, 4, 1]


def test_a_bad_item_fails_alone_and_the_others_are_written() -> None:
    writer = RecordingWriter(poison=frozenset({3}))
    queue: CommitQueue[int, str] = CommitQueue(writer)
    outcomes = outcomes_of(submit_all(queue, writer, 6))
    assert isinstance(outcomes[3], ValueError)
    assert [o for i, o in enumerate(outcomes) if i != 3] == [f"stored {i}" for i in (0, 1, 2, 4, 5)]
    assert [3] in writer.batches and [1] in writer.batches  # retried item by item


def test_a_database_failure_fails_the_whole_batch_without_retries() -> None:
    calls: list[list[int]] = []

    def unavailable(items: Sequence[int]) -> list[str]:
        calls.append(list(items))
        raise sqlalchemy.exc.OperationalError("INSERT", {}, Exception("connection refused"))

    queue: CommitQueue[int, str] = CommitQueue(unavailable)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        asyncio.run(queue.submit(1))
    assert calls == [[1]]


class HeldGate:
    """A gate (SQLite's writer lock) held by another process's commit until ``open()``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            yield

    def open(self) -> None:
        self.lock.release()


def test_items_queued_while_the_writer_waits_at_the_gate_join_its_batch() -> None:
    gate = HeldGate()
    batches: list[list[int]] = []

    def write(items: Sequence[int]) -> list[str]:
        batches.append(list(items))
        return [f"stored {item}" for item in items]

    queue: CommitQueue[int, str] = CommitQueue(write, gate=gate)

    async def scenario() -> list[Any]:
        futures = [asyncio.ensure_future(queue.submit(item)) for item in range(5)]
        await eventually(lambda: queue.waiting == 5, "not queued")
        gate.open()
        return await asyncio.gather(*futures)

    assert outcomes_of(scenario()) == [f"stored {item}" for item in range(5)]
    assert batches == [list(range(5))]


def test_a_request_no_writer_takes_in_time_is_refused_and_never_written() -> None:
    """The writer is stuck at the gate (another process holds the lock): requests give up
    after ``max_wait`` with :class:`Overloaded`, and what they carried is not written once
    the gate opens; a request that arrives then is written."""
    gate = HeldGate()
    written: list[int] = []

    def write(items: Sequence[int]) -> list[str]:
        written.extend(items)
        return [f"stored {item}" for item in items]

    queue: CommitQueue[int, str] = CommitQueue(write, gate=gate, max_wait=0.2)

    async def scenario() -> list[Any]:
        refused = await asyncio.gather(*(queue.submit(i) for i in range(3)), return_exceptions=True)
        gate.open()
        return [*refused, await queue.submit(3)]

    outcomes = outcomes_of(scenario())
    assert [type(outcome) for outcome in outcomes[:3]] == [Overloaded] * 3
    assert outcomes[3] == "stored 3"
    assert written == [3]


def test_a_request_whose_batch_is_being_written_waits_for_the_commit() -> None:
    """Past ``max_wait``, a request the writer has taken is answered by its commit: its
    answer must say whether it was stored."""
    writer = RecordingWriter()
    queue: CommitQueue[int, str] = CommitQueue(writer, max_wait=0.1)

    async def scenario() -> str:
        submitted = asyncio.ensure_future(queue.submit(1))
        await eventually(writer.started.is_set, "never written")
        await asyncio.sleep(0.3)  # three times the bound
        writer.release.set()
        return await submitted

    assert asyncio.run(scenario()) == "stored 1"


def test_a_cancelled_request_not_yet_taken_is_not_written() -> None:
    gate = HeldGate()
    written: list[int] = []
    queue: CommitQueue[int, str] = CommitQueue(
        lambda items: written.extend(items) or [str(i) for i in items], gate=gate
    )

    async def scenario() -> None:
        submitted = asyncio.ensure_future(queue.submit(1))
        await eventually(lambda: queue.waiting == 1, "not queued")
        submitted.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await submitted
        gate.open()
        assert await queue.submit(2) == "2"

    asyncio.run(scenario())
    assert written == [2]


def test_after_batch_runs_once_per_batch_outside_the_gate_once_the_batch_is_answered() -> None:
    gate = HeldGate()
    calls: list[bool] = []
    queue: CommitQueue[int, str]

    def after_batch() -> None:
        calls.append(gate.lock.locked())

    queue = CommitQueue(lambda items: [str(i) for i in items], gate=gate, after_batch=after_batch)

    async def scenario() -> list[str]:
        futures = [asyncio.ensure_future(queue.submit(item)) for item in range(3)]
        await eventually(lambda: queue.waiting == 3, "not queued")
        gate.open()
        return await asyncio.gather(*futures)

    assert outcomes_of(scenario()) == ["0", "1", "2"]
    time.sleep(0.1)  # after_batch runs on the writer once the answers are handed over
    assert calls == [False]


def test_a_failing_after_batch_is_logged_and_fails_no_item(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def after_batch() -> None:
        raise OSError("housekeeping broke")

    queue: CommitQueue[int, str] = CommitQueue(
        lambda items: [f"stored {item}" for item in items], after_batch=after_batch
    )
    with caplog.at_level(logging.ERROR, logger="at_voice_kit.service.store"):
        assert asyncio.run(queue.submit(7)) == "stored 7"
        assert asyncio.run(queue.submit(8)) == "stored 8"  # the writer goes on
    assert "housekeeping after a group commit failed" in caplog.text


def test_a_forked_child_writes_with_a_writer_of_its_own() -> None:
    """gunicorn forks its workers: a child gets its own writer thread and lock, and none of
    the parent's waiting requests."""
    written: list[tuple[int, int]] = []
    queue: CommitQueue[int, str] = CommitQueue(
        lambda items: [written.append((os.getpid(), i)) or str(i) for i in items]
    )
    assert asyncio.run(queue.submit(1)) == "1"  # the parent's writer is running
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        ok = asyncio.run(queue.submit(2)) == "2" and written[-1] == (os.getpid(), 2)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert written == [(os.getpid(), 1)]
