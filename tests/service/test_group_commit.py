"""Group commit: concurrent items share a batch, each gets its own result or error, none waits
forever. ``write_batch`` here is a plain function recording its batches (no database)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy.exc

from at_voice_kit.service.store.group_commit import GroupCommit


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


def submit_all(group: GroupCommit[int, str], writer: RecordingWriter, items: range) -> list[object]:
    """Submit the first item, wait until its batch is being written, submit the rest, release."""
    with ThreadPoolExecutor(len(items)) as pool:
        futures = [pool.submit(group.submit, items[0])]
        assert writer.started.wait(timeout=30)
        futures += [pool.submit(group.submit, item) for item in items[1:]]
        while len(group._queue) < len(items):  # all queued behind the first
            threading.Event().wait(0.005)
        writer.release.set()
        outcomes: list[object] = []
        for future in futures:
            try:
                outcomes.append(future.result(timeout=30))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes


def test_items_arriving_during_a_commit_share_the_next_batch() -> None:
    writer = RecordingWriter()
    group: GroupCommit[int, str] = GroupCommit(writer)
    outcomes = submit_all(group, writer, range(10))
    assert outcomes == [f"stored {item}" for item in range(10)]
    assert writer.batches[0] == [0]
    assert sorted(writer.batches[1]) == list(range(1, 10))
    assert len(writer.batches) == 2


def test_batches_are_bounded() -> None:
    writer = RecordingWriter()
    group: GroupCommit[int, str] = GroupCommit(writer, max_batch=4)
    outcomes = submit_all(group, writer, range(10))
    assert outcomes == [f"stored {item}" for item in range(10)]
    assert [len(batch) for batch in writer.batches] == [1, 4, 4, 1]


def test_a_bad_item_fails_alone_and_the_others_are_written() -> None:
    writer = RecordingWriter(poison=frozenset({3}))
    group: GroupCommit[int, str] = GroupCommit(writer)
    outcomes = submit_all(group, writer, range(6))
    assert isinstance(outcomes[3], ValueError)
    assert [o for i, o in enumerate(outcomes) if i != 3] == [
        f"stored {item}" for item in (0, 1, 2, 4, 5)
    ]
    # The failed batch was retried item by item.
    assert [3] in writer.batches and [1] in writer.batches


def test_a_database_failure_fails_the_whole_batch_without_retries() -> None:
    calls: list[list[int]] = []

    def unavailable(items: Sequence[int]) -> list[str]:
        calls.append(list(items))
        raise sqlalchemy.exc.OperationalError("INSERT", {}, Exception("connection refused"))

    group: GroupCommit[int, str] = GroupCommit(unavailable)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        group.submit(1)
    assert calls == [[1]]


def test_followers_are_released_when_the_leader_is_interrupted() -> None:
    writer = RecordingWriter()

    def interrupted(items: Sequence[int]) -> list[str]:
        writer(items)
        if 0 in items:
            raise KeyboardInterrupt  # e.g. the worker is being stopped
        return [f"stored {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(interrupted)
    results: dict[int, object] = {}

    def leader() -> None:
        try:
            group.submit(0)
        except KeyboardInterrupt as exc:
            results[0] = exc

    thread = threading.Thread(target=leader)
    thread.start()
    assert writer.started.wait(timeout=30)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(group.submit, item) for item in (1, 2, 3)]
        while len(group._queue) < 4:
            threading.Event().wait(0.005)
        writer.release.set()
        thread.join(timeout=30)
        assert [future.result(timeout=30) for future in futures] == [
            "stored 1",
            "stored 2",
            "stored 3",
        ]
    assert isinstance(results[0], KeyboardInterrupt)


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


def wait_until_queued(group: GroupCommit[Any, Any], count: int) -> None:
    """Wait (30 s at most) until ``count`` items are queued in ``group``."""
    deadline = time.monotonic() + 30
    while len(group._queue) < count:
        assert time.monotonic() < deadline, f"{len(group._queue)} of {count} items queued"
        threading.Event().wait(0.005)


def test_items_queued_while_the_leader_waits_at_the_gate_join_its_batch() -> None:
    """The gate (SQLite's writer lock, held by another process's commit) is passed first."""
    gate = HeldGate()
    batches: list[list[int]] = []

    def write(items: Sequence[int]) -> list[str]:
        batches.append(list(items))
        return [f"stored {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(write, gate=gate)
    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(group.submit, item) for item in range(5)]
        wait_until_queued(group, 5)
        gate.open()
        assert [future.result(timeout=30) for future in futures] == [
            f"stored {item}" for item in range(5)
        ]
    assert len(batches) == 1 and sorted(batches[0]) == list(range(5))


def test_after_batch_runs_once_per_batch_outside_the_gate_once_the_batch_is_answered() -> None:
    """The leader's housekeeping (a WAL checkpoint) holds up neither the gate nor its batch."""
    gate = HeldGate()
    calls: list[tuple[bool, list[str]]] = []
    futures: list[Future[str]] = []

    def after_batch() -> None:
        # The followers were answered before this runs: their results can be collected here.
        followers = [future.result(timeout=30) for future in futures[1:]]
        calls.append((gate.lock.locked(), followers))

    def write(items: Sequence[int]) -> list[str]:
        return [f"stored {item}" for item in items]

    group: GroupCommit[int, str] = GroupCommit(write, gate=gate, after_batch=after_batch)
    with ThreadPoolExecutor(3) as pool:
        futures.append(pool.submit(group.submit, 0))  # the leader, waiting at the gate
        wait_until_queued(group, 1)
        futures.extend(pool.submit(group.submit, item) for item in (1, 2))
        wait_until_queued(group, 3)
        gate.open()
        assert [future.result(timeout=30) for future in futures] == [
            "stored 0",
            "stored 1",
            "stored 2",
        ]
    assert calls == [(False, ["stored 1", "stored 2"])]  # once, for the one batch of three


def test_a_failing_after_batch_is_logged_and_fails_no_item(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def after_batch() -> None:
        raise OSError("housekeeping broke")

    group: GroupCommit[int, str] = GroupCommit(
        lambda items: [f"stored {item}" for item in items], after_batch=after_batch
    )
    with caplog.at_level(logging.ERROR, logger="at_voice_kit.service.store"):
        assert group.submit(7) == "stored 7"
    assert "housekeeping after a group commit failed" in caplog.text
    assert "housekeeping broke" in caplog.text
