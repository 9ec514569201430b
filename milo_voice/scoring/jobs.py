"""Durable background jobs: a small queue interface and the in-process worker that runs it.

`JobQueue` is the seam (enqueue only); `LocalQueue` writes to the `job` table and wakes the
worker of this process. `Worker` is one thread with its own event loop that runs due jobs one
at a time, so scoring never competes with live audio on the server's loop (blocking database
calls there are fine). On start it re-queues jobs a crashed process left running. A failed job
is retried with exponential backoff; `EngineUnavailable(retryable=False)` or the last attempt
marks it failed. `run_job` decides a job's outcome for this worker and for the Procrastinate
backend alike (`milo_voice.scoring.queue`), so a handler is written once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from milo_voice import observability as metrics
from milo_voice.errors import EngineUnavailable
from milo_voice.scoring.job_table import JobTable
from milo_voice.store.tables import Job

log = logging.getLogger(__name__)

Handler = Callable[[Job, bool], Awaitable[None]]
"""Runs one job; the flag says whether this is its last attempt. Raising means "retry later"."""

IDLE_CHECK = 2.0
"""Seconds an idle worker sleeps before looking at the table again (jobs queued by another process)."""

_workers: weakref.WeakSet[Worker] = weakref.WeakSet()


def wake_local_workers() -> None:
    """Tell this process's workers that a job was queued, so they need not wait for `IDLE_CHECK`."""
    for worker in list(_workers):
        worker.wake()


class JobQueue(Protocol):
    def enqueue(
        self, kind: str, payload: dict[str, Any], *, delay: float = 0.0, run_after: datetime | None = None
    ) -> int:
        """Queue a job of `kind` (a registered handler's name), runnable at `run_after` or `delay`
        seconds from now; returns the `job` row's id."""
        ...


class LocalQueue:
    """The embedded queue: the durable `job` table, worked by this process's `Worker`."""

    backend = "table"

    def __init__(self, table: JobTable) -> None:
        self.table = table

    def enqueue(
        self, kind: str, payload: dict[str, Any], *, delay: float = 0.0, run_after: datetime | None = None
    ) -> int:
        job_id = self.table.enqueue(kind, payload, delay=delay, run_after=run_after)
        wake_local_workers()
        return job_id

    def failed(self, limit: int = 100) -> list[Job]:
        """The dead-letter list: jobs that failed for good, newest first."""
        return self.table.failed(limit)

    def retry(self, job_id: int) -> bool:
        """One more (final) attempt of a failed job, now; False when it is not failed."""
        retried = self.table.retry_failed(job_id)
        wake_local_workers()
        return retried


def backoff_for(backoff: float, attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: backoff, 2x, 4x, ..."""
    return float(backoff * 2.0 ** max(attempts - 1, 0))


async def run_job(
    table: JobTable, handlers: Mapping[str, Handler], job: Job, *, max_attempts: int, backoff: float
) -> str:
    """Run one claimed job and settle its row: "done", "retry" (queued again after the backoff) or
    "failed". The one place a job's outcome is decided, whichever queue delivered it."""
    job_id = job.id or 0
    final = job.attempts >= max_attempts
    handler = handlers.get(job.kind)
    if handler is None:
        table.fail(job_id, f"no handler for job kind {job.kind!r}")
        metrics.JOB_FAILURES.labels(job.kind).inc()
        return "failed"
    try:
        await handler(job, final)
    except Exception as exc:  # a job's root: keep the error on the job, retry or give up
        error = f"{type(exc).__name__}: {exc}"
        retryable = not (isinstance(exc, EngineUnavailable) and not exc.retryable)
        if final or not retryable:
            log.exception("jobs.failed", extra={"job_id": job_id, "kind": job.kind})
            table.fail(job_id, error)
            metrics.JOB_FAILURES.labels(job.kind).inc()
            return "failed"
        delay = backoff_for(backoff, job.attempts)
        log.info("jobs.retry", extra={"job_id": job_id, "kind": job.kind, "delay_s": delay})
        table.retry(job_id, error, delay=delay)
        return "retry"
    table.finish(job_id)
    return "done"


class Worker:
    def __init__(
        self,
        table: JobTable,
        handlers: Mapping[str, Handler],
        *,
        max_attempts: int = 5,
        backoff: float = 5.0,
        idle_check: float = IDLE_CHECK,
    ) -> None:
        if max_attempts < 1 or backoff < 0:
            raise ValueError(f"max_attempts={max_attempts}, backoff={backoff}: expected >= 1 and >= 0")
        self.table = table
        self.handlers = dict(handlers)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.idle_check = idle_check
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._settled: dict[int, str] = {}
        self._changed = threading.Condition()

    def backoff_for(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones: backoff, 2x, 4x, ..."""
        return backoff_for(self.backoff, attempts)

    def wake(self) -> None:
        self._wakeup.set()

    def start(self) -> list[int]:
        """Re-queue what a crash left running, then start the worker thread; returns re-queued ids."""
        requeued = self.table.requeue_running()
        if requeued:
            log.info("jobs.requeued", extra={"count": len(requeued)})
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="milo-jobs", daemon=True)
        _workers.add(self)
        self._thread.start()
        return requeued

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the job in hand, then stop the thread."""
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
        _workers.discard(self)

    def _run(self) -> None:
        with asyncio.Runner() as runner:
            while not self._stopping.is_set():
                if runner.run(self.run_once()):
                    continue
                self._wakeup.wait(self._idle_seconds())
                self._wakeup.clear()

    def _idle_seconds(self) -> float:
        due = self.table.next_due()
        if due is None:
            return self.idle_check
        wait = (due - datetime.now(UTC)).total_seconds()
        return min(max(wait, 0.0), self.idle_check)

    def wait_settled(
        self, job_id: int, timeout: float, outcomes: tuple[str, ...] = ("done", "failed")
    ) -> str | None:
        """Block until this worker's last run of `job_id` ended in one of `outcomes` (done, failed,
        retry); returns that outcome, or None on timeout. For tests and command-line tools."""
        with self._changed:
            self._changed.wait_for(lambda: self._settled.get(job_id) in outcomes, timeout)
            outcome = self._settled.get(job_id)
            return outcome if outcome in outcomes else None

    async def run_once(self) -> bool:
        """Claim and run one due job; False if none was due."""
        job = self.table.claim()
        if job is None or job.id is None:
            return False
        outcome = await self._run_job(job, job.id)
        with self._changed:
            self._settled[job.id] = outcome
            self._changed.notify_all()
        return True

    async def _run_job(self, job: Job, job_id: int) -> str:
        return await run_job(self.table, self.handlers, job, max_attempts=self.max_attempts,
                             backoff=self.backoff)

    async def run_until_idle(self, limit: int = 1000) -> int:
        """Run due jobs until none is due (tests, CLI); returns how many ran."""
        count = 0
        while count < limit and await self.run_once():
            count += 1
        return count
