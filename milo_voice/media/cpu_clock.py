"""CPU time actually used by a piece of work that runs partly in threads Python does not own.

A Whisper decode runs its Python side (features, tokens) in the calling thread and its
encoder and decoder in CTranslate2's own worker threads. Wall time counts the minutes a decode
waits for a core that Smart Turn or Piper holds, so on a busy machine it overstates the compute.
`ThreadCpu` reads the scheduler's per-thread counters from /proc instead (Linux); where they are
not readable it says so and the caller falls back to wall time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

TASKS = Path("/proc/self/task")


def thread_ids() -> set[int]:
    """Native ids of this process's threads (empty where /proc is not available)."""
    try:
        return {int(name) for name in os.listdir(TASKS)}
    except OSError:
        return set()


def thread_cpu_s(tid: int) -> float | None:
    """Seconds a thread of this process has run on a CPU (None if it is gone or unreadable)."""
    try:
        return int((TASKS / str(tid) / "schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:  # kernels without schedstat: utime + stime in clock ticks
        fields = (TASKS / str(tid) / "stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def new_threads(start: Callable[[], T]) -> tuple[T, set[int]]:
    """Run `start` (which creates worker threads) and return its result and the threads it made."""
    before = thread_ids()
    result = start()
    return result, thread_ids() - before


class ThreadCpu:
    """CPU seconds used by a fixed set of worker threads plus the calling thread, per call."""

    def __init__(self, workers: Iterable[int]) -> None:
        self.workers = tuple(sorted(workers))
        self.available = bool(self.workers) and all(thread_cpu_s(t) is not None for t in self.workers)

    def _workers_s(self) -> float:
        return sum(thread_cpu_s(t) or 0.0 for t in self.workers)

    def measure(self, work: Callable[[], T]) -> tuple[T, float | None]:
        """`work()` and the CPU seconds it used, or None when the counters are not readable.

        Work done meanwhile by the same workers for someone else is counted too (an upper bound
        when decodes overlap); time spent waiting for a core is not."""
        if not self.available:
            return work(), None
        own, workers = time.thread_time(), self._workers_s()
        result = work()
        return result, (time.thread_time() - own) + (self._workers_s() - workers)
