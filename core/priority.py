"""The worker yields the CPU to people: at its start the worker process lowers its own CPU
priority (a higher niceness, `IMS_WORKER_NICE`, 10 unless set, 0 = leave it as it is), so when
people open pages the app server and their browsers get the CPU first and the worker's jobs
take what is left: they still run to their end, only later on a busy machine. The app server
and the sandbox are other processes and keep their own priority (docs/reliability.md).

A top-level module that imports nothing heavy: worker.py calls it before its own imports."""
from __future__ import annotations

import os
from pathlib import Path

from core.env_numbers import whole_number

DEFAULT_NICENESS = 10
HIGHEST_NICENESS = 19


def worker_niceness() -> int:
    """The niceness the worker runs at (`IMS_WORKER_NICE`: 0-19, 0 = as started)."""
    return whole_number("IMS_WORKER_NICE", DEFAULT_NICENESS, 0, HIGHEST_NICENESS,
                        f"from 0 to {HIGHEST_NICENESS} (0 leaves the worker's priority as it is)")


def _threads() -> list[int]:
    """This process's threads (Linux keeps a niceness per thread; the worker's imports have
    started some already), or 0, the caller alone, where /proc is not there."""
    tasks = Path("/proc/self/task")
    return [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [0]


def yield_cpu_to_people() -> int:
    """Raise this process's niceness to `worker_niceness()`, on every thread it has (threads
    started later inherit it); never lower it (a worker started under `nice -n 15` stays at 15).
    The niceness in effect."""
    wanted = worker_niceness()
    for thread in _threads():
        try:
            if os.getpriority(os.PRIO_PROCESS, thread) < wanted:
                os.setpriority(os.PRIO_PROCESS, thread, wanted)
        except (ProcessLookupError, PermissionError):
            continue                       # a thread that ended meanwhile
    return os.getpriority(os.PRIO_PROCESS, 0)
