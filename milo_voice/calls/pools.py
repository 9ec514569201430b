"""The model pools' executor: a thread pool that times each job's wait for a free worker.

`Runtime` runs ASR, TTS and Smart Turn on one small pool each (`calls/engines.py`); the dialogue
hands work to them with `loop.run_in_executor`, which calls `submit`. When live calls outnumber
workers, jobs queue: `milo_pool_wait_seconds{pool}` shows that wait before any caller hears it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from milo_voice import observability as metrics


class TimedPool(ThreadPoolExecutor):
    """A `ThreadPoolExecutor` that observes, per job, the seconds from `submit` to its start."""

    def __init__(self, pool: str, workers: int) -> None:
        super().__init__(workers, thread_name_prefix=pool)
        self.pool = pool

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        started = metrics.timed_start(self.pool)

        def job() -> Any:
            started()
            return fn(*args, **kwargs)

        return super().submit(job)
