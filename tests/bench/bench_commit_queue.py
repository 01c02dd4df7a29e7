"""Benchmark: what the commit queue's own machinery costs per item, without a database.

    python -m tests.bench.bench_commit_queue [--requests 64] [--items 16000] [--write-ms 1]

Coroutines on one event loop submit items to
:class:`at_voice_kit.service.store.commit_queue.CommitQueue` as a worker's requests do, while
the "write" on the writer thread only sleeps (``--write-ms``, as long as a commit takes under
load): it uses no CPU, so the CPU the process spends is the queueing, the hand-over to the
writer thread and back, and the waking of the requests. Printed per item: CPU (user and
system), wall time, context switches, and the batch sizes formed. The machine is noisy:
compare the rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from collections.abc import Sequence

from at_voice_kit.service.store.commit_queue import CommitQueue


def context_switches(usage: resource.struct_rusage) -> int:
    """The context switches in ``usage``: voluntary (a thread slept) and not (preempted)."""
    return usage.ru_nvcsw + usage.ru_nivcsw


async def submit_from_requests(queue: CommitQueue[int, int], items: int, requests: int) -> None:
    """``requests`` coroutines each submit every ``requests``-th item, one after another."""

    async def share(first: int) -> None:
        for item in range(first, items, requests):
            await queue.submit(item)

    await asyncio.gather(*(share(first) for first in range(requests)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=64, help="concurrent requests")
    parser.add_argument("--items", type=int, default=16_000, help="items submitted in all")
    parser.add_argument("--write-ms", type=float, default=1.0, help="how long a write sleeps")
    options = parser.parse_args()
    if not 1 <= options.requests <= 4096 or not 100 <= options.items <= 1_000_000:
        parser.error("--requests must be in [1, 4096] and --items in [100, 1,000,000]")
    if not 0 <= options.write_ms <= 100:
        parser.error("--write-ms must be in [0, 100]")
    pause = options.write_ms / 1e3
    batches: list[int] = []

    def write_batch(items: Sequence[int]) -> list[int]:
        batches.append(len(items))
        time.sleep(pause)
        return list(items)

    queue: CommitQueue[int, int] = CommitQueue(write_batch, max_wait=60)
    print(
        f"at-voice-kit commit queue benchmark: {options.requests} requests, {options.items} "
        f"items, a write sleeps {options.write_ms} ms"
    )
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    asyncio.run(submit_from_requests(queue, options.items, options.requests))
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    user = (after.ru_utime - before.ru_utime) / options.items * 1e6
    system = (after.ru_stime - before.ru_stime) / options.items * 1e6
    switches = (context_switches(after) - context_switches(before)) / options.items
    print(
        f"commit queue  cpu {user + system:6.1f} µs/item (user {user:5.1f}, system "
        f"{system:5.1f})   wall {wall / options.items * 1e6:7.1f} µs/item   "
        f"{switches:.2f} context switches/item"
    )
    print(f"batches: {len(batches)}, {options.items / len(batches):.1f} items each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
