"""What a process has cost so far, from ``/proc`` (Linux): CPU time, for benchmark figures."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tests.e2e.processes import child_pids

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_times(pid: int) -> tuple[int, int, int, int]:
    """(utime, stime, cutime, cstime) of ``pid``, in clock ticks."""
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return utime, stime, cutime, cstime


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` itself has used."""
    utime, stime, _, _ = _stat_times(pid)
    return (utime + stime) / _TICKS_PER_SECOND


def tree_cpu_seconds(parent: int, children: Iterable[int]) -> float:
    """CPU seconds of ``parent``, of its live ``children``, and of the children it reaped
    (a gunicorn master and its workers, recycled workers included)."""
    utime, stime, reaped_user, reaped_system = _stat_times(parent)
    total = utime + stime + reaped_user + reaped_system
    for child in children:
        try:
            child_user, child_system, _, _ = _stat_times(child)
        except FileNotFoundError:  # exited since it was listed: counted once reaped
            continue
        total += child_user + child_system
    return total / _TICKS_PER_SECOND


def gunicorn_cpu_seconds(master_pid: int) -> float:
    """CPU seconds of a gunicorn master and its workers (recycled ones included)."""
    return tree_cpu_seconds(master_pid, child_pids(master_pid))


def machine_ticks() -> tuple[int, int]:
    """(idle, total) clock ticks of every CPU of the machine since boot, from ``/proc/stat``."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is counted within user).
    return fields[3] + fields[4], sum(fields[:8])
