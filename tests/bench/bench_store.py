"""Benchmark: what the event store costs per event, by batch size, without HTTP.

    python -m tests.bench.bench_store [--database sqlite|postgres] [--events 2048]

Appends realistic notifications (three per call: ringing, answered, ended) with
:meth:`EventStore.append_many` in batches of 1, 4, 8, 16 and 64, as the group commit forms
them under load (``service/store/commit_queue.py``), and prints the process's CPU time (user
and system, so the kernel's share of each commit is counted) and the wall time per event.
The calls are interleaved, as AT's notifications of concurrent calls are: each batch holds
events of as many different calls as it has events. A contrast row then appends batches of
whole calls (each call's three events together, so a batch of 63 touches 21 calls): each
call a batch touches costs a read, a write and index entries of its own. The difference
between batch sizes is the per-commit cost; what remains at 64 is the per-event cost. "lock
held" is the time per event inside the writer lock (on SQLite the one-writer lock, which the
processes of a service take in turn; on PostgreSQL the write transaction): the part of the
work no other process can overlap. A last row appends the way a worker's requests do: 64 at
once on one event loop, one :meth:`EventStore.append_async` each, joined by the process's
writer into batches of interleaved calls; it adds what waiting for a commit costs (the
hand-over to the writer thread and back), counted with the process's context switches per
event. The same run measures parsing and validating the form
(``parse_event``) for comparison. Only this process's CPU is counted: a PostgreSQL server's
own work is not. The machine is noisy: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from at_voice_kit.service.store import CallEvent, EventStore, create_database_engine
from at_voice_kit.service.webhook_forms import parse_event
from tests.bench.bench_commit_queue import context_switches
from tests.bench.bench_service import database
from tests.bench.diagnostic_apps import WriteTiming, time_the_writer_lock

BATCH_SIZES = (1, 4, 8, 16, 64)
WHOLE_CALLS_BATCH = 63
"""The contrast row's batch size: 21 whole calls of three events."""
CONCURRENT_REQUESTS = 64
"""As many as the service benchmark's connections."""
_RUNS = itertools.count()
"""Numbers each :func:`from_request_threads` run, so that every run appends new events."""
EVENT_TYPES = ("SessionRinging", "SessionAnswered", "SessionEnded")


def notification(call: int, step: int, tag: str) -> dict[str, str]:
    """The form of one of a call's three notifications, as AT posts it."""
    form = {
        "sessionId": f"ATVId_{tag}{call:026d}",
        "direction": "Outbound",
        "callerNumber": f"+254711{call % 1_000_000:06d}",
        "destinationNumber": "+254711082000",
        "callerCountryCode": "254",
        "callStartTime": "2026-01-18 20:04:05",
        "isActive": "0" if step == 2 else "1",
        "eventType": EVENT_TYPES[step],
        "callSessionState": ("Ringing", "Answered", "Completed")[step],
    }
    if step == 2:
        form.update(
            status="Success",
            hangupCause="NORMAL_CLEARING",
            durationInSeconds=str(10 + call % 50),
            currencyCode="KES",
            amount=f"{(call % 50) * 0.05:.2f}",
        )
    return form


def notification_forms(count: int, tag: str, *, interleaved: bool = True) -> list[dict[str, str]]:
    """``count`` notifications of ``count / 3`` calls: every call's ringing, then every
    call's answer, then every call's end (``interleaved``); or each call's three in a row."""
    calls = range(count // 3 + 1)
    order = (
        [(call, step) for step in range(3) for call in calls]
        if interleaved
        else [(call, step) for call in calls for step in range(3)]
    )
    return [notification(call, step, tag) for call, step in order[:count]]


def notifications(count: int, tag: str, *, interleaved: bool = True) -> list[CallEvent]:
    """:func:`notification_forms`, parsed into events."""
    return [parse_event(form) for form in notification_forms(count, tag, interleaved=interleaved)]


def cpu_and_wall(run: Callable[[], object], count: int) -> tuple[float, float]:
    """Microseconds of CPU (user + system) and of wall time per item of ``run``."""
    # getrusage counts in microseconds; os.times only in clock ticks (10 ms).
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    run()
    after = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter() - started
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu / count * 1e6, wall / count * 1e6


def from_the_loop(
    store: EventStore, timing: WriteTiming, count: int, requests: int = CONCURRENT_REQUESTS
) -> str:
    """Append ``count`` new events from ``requests`` coroutines at once through the writer,
    as a worker's requests do; the figures per event, as one line."""
    events = notifications(count, f"t{next(_RUNS)}-")
    batches_before = timing.batches
    switches_before = context_switches(resource.getrusage(resource.RUSAGE_SELF))

    async def append_all() -> None:
        async def share(first: int) -> None:
            for event in events[first::requests]:
                await store.append_async(event)

        await asyncio.gather(*(share(first) for first in range(requests)))

    cpu, wall = cpu_and_wall(lambda: asyncio.run(append_all()), count)
    switches_after = context_switches(resource.getrusage(resource.RUSAGE_SELF))
    switches = (switches_after - switches_before) / count
    per_batch = count / max(timing.batches - batches_before, 1)
    return (
        f"append from {requests:2d} requests{'':12} cpu {cpu:6.0f} µs/event   "
        f"wall {wall:6.0f} µs/event   {per_batch:.1f} events per commit, "
        f"{switches:.1f} context switches per event"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--events", type=int, default=2048, help="events per batch size")
    options = parser.parse_args()
    if not 64 <= options.events <= 1_000_000:
        parser.error("--events must be between 64 and 1,000,000")
    count = options.events
    print(f"at-voice-kit store benchmark: {options.database}, {count} events per batch size")

    forms = notification_forms(count, "p")
    cpu, wall = cpu_and_wall(lambda: [parse_event(form) for form in forms], count)
    print(f"parse_event (form to event){'':8} cpu {cpu:6.0f} µs/event   wall {wall:6.0f} µs/event")

    timing = WriteTiming()
    time_the_writer_lock(timing)
    with (
        tempfile.TemporaryDirectory(prefix="avk-bench-store-") as directory,
        database(options.database, Path(directory)) as database_for,
    ):
        engine = create_database_engine(database_for("store"))
        try:
            store = EventStore(engine)
            store.migrate()
            runs = [(size, True) for size in BATCH_SIZES] + [(WHOLE_CALLS_BATCH, False)]
            for batch_size, interleaved in runs:
                events = notifications(
                    count,
                    f"b{batch_size:02d}{'i' if interleaved else 'w'}",
                    interleaved=interleaved,
                )

                def append(events: list[CallEvent] = events, size: int = batch_size) -> None:
                    for start in range(0, len(events), size):
                        store.append_many(events[start : start + size])

                held_before = timing.holding
                cpu, wall = cpu_and_wall(append, count)
                held = (timing.holding - held_before) / count * 1e6
                label = f"batches of {batch_size:3d}" + ("" if interleaved else ", whole calls")
                print(
                    f"append, {label:27} cpu {cpu:6.0f} µs/event   "
                    f"wall {wall:6.0f} µs/event   lock held {held:6.0f} µs/event"
                )
            print(from_the_loop(store, timing, count))
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
