"""Benchmark: what the group commit's own machinery costs per item, without a database.

    python -m tests.bench.bench_group_commit [--threads 16] [--items 16000] [--write-ms 1]

Threads submit items to :class:`at_voice_kit.service.store.group_commit.GroupCommit` as a worker's
request threads do, while the "write" only sleeps (``--write-ms``, as long as a commit
takes under load): it uses no CPU, so the CPU the process spends is the queueing, sleeping
and waking of the threads. Printed per item: CPU (user and system), wall time, context
switches, and the batch sizes formed. For reference the same threads then take turns at a
plain lock, each "writing" alone for the same time: no batching, one write per item. The
machine is noisy: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import resource
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from at_voice_kit.service.store.group_commit import GroupCommit

ItemT = TypeVar("ItemT")


def submit_from_threads(
    submit: Callable[[ItemT], object], items: Sequence[ItemT], threads: int
) -> None:
    """Each of ``threads`` threads submits every ``threads``-th of ``items``, as a worker's
    request threads do; returns once every item is answered."""

    def share(first: int) -> None:
        for item in items[first::threads]:
            submit(item)

    workers = [threading.Thread(target=share, args=(first,)) for first in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def context_switches(usage: resource.struct_rusage) -> int:
    """The context switches in ``usage``: voluntary (a thread slept) and not (preempted)."""
    return usage.ru_nvcsw + usage.ru_nivcsw


def measure(submit: Callable[[int], object], threads: int, items: int) -> tuple[float, ...]:
    """Per item: user CPU, system CPU and wall time in µs, and context switches."""
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    submit_from_threads(submit, range(items), threads)
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    return (
        (after.ru_utime - before.ru_utime) / items * 1e6,
        (after.ru_stime - before.ru_stime) / items * 1e6,
        wall / items * 1e6,
        (context_switches(after) - context_switches(before)) / items,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=16, help="submitting threads")
    parser.add_argument("--items", type=int, default=16_000, help="items submitted in all")
    parser.add_argument("--write-ms", type=float, default=1.0, help="how long a write sleeps")
    options = parser.parse_args()
    if not 1 <= options.threads <= 256 or not 100 <= options.items <= 1_000_000:
        parser.error("--threads must be in [1, 256] and --items in [100, 1,000,000]")
    if not 0 <= options.write_ms <= 100:
        parser.error("--write-ms must be in [0, 100]")
    pause = options.write_ms / 1e3
    batches: list[int] = []

    def write_batch(items: Sequence[int]) -> list[int]:
        batches.append(len(items))
        time.sleep(pause)
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(write_batch)
    plain = threading.Lock()

    def write_alone(item: int) -> int:
        with plain:
            time.sleep(pause)
        return item

    print(
        f"at-voice-kit group commit benchmark: {options.threads} threads, {options.items} "
        f"items, a write sleeps {options.write_ms} ms"
    )
    for label, submit in (("group commit", group.submit), ("plain lock", write_alone)):
        user, system, wall, switches = measure(submit, options.threads, options.items)
        print(
            f"{label:12}  cpu {user + system:6.1f} µs/item (user {user:5.1f}, system "
            f"{system:5.1f})   wall {wall:7.1f} µs/item   {switches:.2f} context switches/item"
        )
    print(f"group commit batches: {len(batches)}, {options.items / len(batches):.1f} items each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
