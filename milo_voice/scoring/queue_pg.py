"""Background jobs on Procrastinate, the PostgreSQL job queue (issue 21; why: docs/deploy.md, Job queue).

The `job` row stays the domain's record of a job (kind, payload, attempts, last error: what the
workspace, the metrics and erasure read); Procrastinate carries only its id and does the rest:
delivery to exactly one worker of any node (`SELECT ... FOR UPDATE SKIP LOCKED`, woken by
LISTEN/NOTIFY), scheduling (`schedule_at`), retries at the time our backoff names (a retry
strategy), the failed list, stalled-worker detection, and one periodic task that re-queues the
jobs of a worker that died (its heartbeat stopped). A job's outcome is decided by `jobs.run_job`,
exactly as the embedded worker decides it, so a handler is written once.

One task per job kind (`procrastinate_jobs.task_name` is the kind); its only argument is
`job_id`, so no candidate id ever sits in Procrastinate's tables (erasure removes the `job` row,
and a job whose row is gone runs nothing).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector, SyncPsycopgConnector
from procrastinate.jobs import Job as QueuedJob
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from milo_voice.scoring.job_table import JobTable
from milo_voice.scoring.jobs import Handler, run_job
from milo_voice.scoring.worker_thread import WorkerThread
from milo_voice.store.repo import Repo
from milo_voice.store.tables import Job

log = logging.getLogger(__name__)

RECOVER_TASK = "milo.recover_stalled"
"""The periodic task (every minute, once across all nodes) that re-queues a dead worker's jobs."""
STALLED_AFTER_S = 30.0
"""A worker whose heartbeat is older than this is dead; its running jobs are queued again."""
ORPHANED_AFTER = timedelta(minutes=1)
"""A queued `job` row this old without a Procrastinate job is deferred again (see `QueueRows.orphans`)."""

_apps: dict[str, App] = {}
_apps_lock = threading.Lock()


def conninfo(database_url: str) -> str:
    """libpq connection string of a SQLAlchemy URL (`postgresql+psycopg://...` -> `postgresql://...`)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def enqueuing_app(database_url: str) -> App:
    """This process's Procrastinate app for deferring, retrying and listing (sync; opened once, small
    pool that keeps no idle connection)."""
    with _apps_lock:
        app = _apps.get(database_url)
        if app is None:
            app = App(connector=SyncPsycopgConnector(conninfo=conninfo(database_url), min_size=0, max_size=4))
            app.open()
            _apps[database_url] = app
        return app


def close_apps() -> None:
    """Close the deferring apps' pools (at shutdown; a later enqueue opens one again)."""
    with _apps_lock:
        apps = list(_apps.values())
        _apps.clear()
    for app in apps:
        app.close()


class QueueRows(Repo):
    """Reads of Procrastinate's own table (`procrastinate_jobs`), joined to our `job` rows."""

    def failed(self, limit: int) -> list[Job]:
        """Jobs Procrastinate holds as failed, newest first, as their `job` rows."""
        query = text(
            "SELECT (args->>'job_id')::bigint FROM procrastinate_jobs WHERE status = 'failed' "
            "AND args ? 'job_id' ORDER BY id DESC LIMIT :limit"
        )
        with self.unit() as session:
            ids = [int(i) for (i,) in session.execute(query, {"limit": limit}) if i is not None]
            rows = {j.id: j for j in session.exec(select(Job).where(col(Job.id).in_(ids)))}
        return [rows[i] for i in ids if i in rows]

    def orphans(self, older_than: timedelta) -> list[Job]:
        """Queued `job` rows created over `older_than` ago that no Procrastinate job waits for or runs
        (a crash between writing the row and deferring it; rows queued while MILO_JOB_QUEUE was `table`)."""
        query = text(
            "SELECT j.id FROM job j WHERE j.status = 'queued' AND j.created_at < :before AND NOT EXISTS ("
            "SELECT 1 FROM procrastinate_jobs p WHERE p.args->>'job_id' = j.id::text "
            "AND p.status IN ('todo', 'doing'))"
        )
        with self.unit() as session:
            ids = [int(i) for (i,) in session.execute(query, {"before": self.now() - older_than})]
            return list(session.exec(select(Job).where(col(Job.id).in_(ids)))) if ids else []

    def doing(self, job_id: int) -> bool:
        """Whether Procrastinate holds a job carrying this row as running."""
        query = text("SELECT 1 FROM procrastinate_jobs WHERE args->>'job_id' = :job AND status = 'doing'")
        with self.unit() as session:
            return session.execute(query, {"job": str(job_id)}).first() is not None

    def queue_id(self, job_id: int) -> int | None:
        """Procrastinate's id of the newest job carrying this `job` row."""
        query = text(
            "SELECT id FROM procrastinate_jobs WHERE args->>'job_id' = :job ORDER BY id DESC LIMIT 1"
        )
        with self.unit() as session:
            found = session.execute(query, {"job": str(job_id)}).scalar()
        return None if found is None else int(found)


class ProcrastinateQueue:
    """Enqueue: the `job` row, then a Procrastinate job carrying its id, due at the same time."""

    backend = "procrastinate"

    def __init__(self, table: JobTable, database_url: str) -> None:
        self.table = table
        self.database_url = database_url
        self.rows = QueueRows(table.engine, now=table.now)

    @property
    def app(self) -> App:
        return enqueuing_app(self.database_url)

    def enqueue(
        self, kind: str, payload: dict[str, Any], *, delay: float = 0.0, run_after: datetime | None = None
    ) -> int:
        when = run_after or self.table.now() + timedelta(seconds=delay)
        job_id = self.table.enqueue(kind, payload, run_after=when)
        try:
            self.app.configure_task(kind, schedule_at=when).defer(job_id=job_id)
        except Exception as exc:
            self.table.fail(job_id, f"could not be queued: {type(exc).__name__}: {exc}")
            raise
        return job_id

    def failed(self, limit: int = 100) -> list[Job]:
        """The dead-letter list: Procrastinate's failed jobs, newest first."""
        return self.rows.failed(limit)

    def retry(self, job_id: int) -> bool:
        """One more (final) attempt of a failed job, now, by Procrastinate; False when it is not failed."""
        queue_id = self.rows.queue_id(job_id)
        if queue_id is None or not self.table.retry_failed(job_id):
            return False
        self.app.job_manager.retry_job_by_id(queue_id, retry_at=self.table.now())
        return True


class RetryLater(Exception):
    """Raised to Procrastinate when `run_job` queued the row again: retry at `at`."""

    def __init__(self, at: datetime) -> None:
        super().__init__(f"retry at {at.isoformat()}")
        self.at = at


class GaveUp(Exception):
    """Raised to Procrastinate when `run_job` failed the row for good: the job is failed."""


class AtOurBackoff(BaseRetryStrategy):
    """Procrastinate retries exactly when `run_job` said (MILO_JOB_BACKOFF, doubling), never otherwise."""

    def get_retry_decision(self, *, exception: BaseException, job: QueuedJob) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_at=exception.at)
        return None


class ProcrastinateWorker(WorkerThread[list[int]]):
    """A Procrastinate worker in its own thread and event loop (off the server's loop, one job at a
    time, like the embedded `Worker`), running every registered kind and the stalled-job recovery."""

    def __init__(
        self,
        table: JobTable,
        handlers: Mapping[str, Handler],
        database_url: str,
        *,
        max_attempts: int = 5,
        backoff: float = 5.0,
        name: str = "milo-jobs",
        idle_check: float = 2.0,
    ) -> None:
        super().__init__(name)
        self.table, self.handlers, self.database_url = table, dict(handlers), database_url
        self.max_attempts, self.backoff = max_attempts, backoff
        self.idle_check = idle_check
        """Seconds between polls for jobs that became due (a retry, a scheduled job); new ones wake it."""
        self._settled: dict[int, str] = {}
        self._changed = threading.Condition()

    def app(self) -> App:
        """An app over an async pool with a task per kind, its retry strategy, and the recovery task."""
        app = App(connector=PsycopgConnector(conninfo=conninfo(self.database_url), min_size=1, max_size=3))
        for kind in self.handlers:
            app.task(name=kind, retry=AtOurBackoff())(self._task_for(kind))

        @app.periodic(cron="* * * * *", periodic_id="recover")
        @app.task(name=RECOVER_TASK, pass_context=True)
        async def recover(context: JobContext, timestamp: int) -> None:
            await self.recover(context.app)

        return app

    def _task_for(self, kind: str) -> Any:
        async def run(job_id: int) -> None:
            await self.run(job_id)

        run.__name__ = run.__qualname__ = f"run_{kind}"
        return run

    async def run(self, job_id: int) -> None:
        """Claim the row (a duplicate or an erased job runs nothing), run it, tell Procrastinate."""
        job = self.table.claim_id(job_id)
        if job is None:
            log.info("jobs.nothing_to_run", extra={"job_id": job_id})
            return
        outcome = await run_job(
            self.table, self.handlers, job, max_attempts=self.max_attempts, backoff=self.backoff
        )
        with self._changed:
            self._settled[job_id] = outcome
            self._changed.notify_all()
        if outcome == "retry":
            row = self.table.get(job_id)
            raise RetryLater(row.run_after if row is not None else self.table.now())
        if outcome == "failed":
            raise GaveUp(f"job {job_id} ({job.kind}) failed: {(self.table.get(job_id) or job).error}")

    async def recover(self, app: App) -> list[int]:
        """Queue again the jobs of workers whose heartbeat stopped, and defer queued rows that have no
        Procrastinate job; returns their `job` ids. Twice is harmless: a row runs only while queued."""
        manager = app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_S))
        ids = []
        for queued in stalled:
            await manager.retry_job(queued)
            if "job_id" in queued.task_kwargs:
                ids.append(int(queued.task_kwargs["job_id"]))  # type: ignore[arg-type]
        self.table.requeue(ids)
        for orphan in QueueRows(self.table.engine, now=self.table.now).orphans(ORPHANED_AFTER):
            if orphan.kind not in self.handlers:
                continue  # a kind this worker does not run: Procrastinate would fail it every minute
            await app.configure_task(orphan.kind, schedule_at=orphan.run_after).defer_async(job_id=orphan.id)
            ids.append(orphan.id or 0)
        if ids:
            log.info("jobs.requeued", extra={"count": len(ids)})
        return ids

    def start(self) -> list[int]:
        """Start the worker thread once the stalled jobs are queued again; returns their `job` ids."""
        return self.start_thread()

    async def prepare(self, app: App) -> list[int]:
        return await self.recover(app)

    def worker_options(self) -> dict[str, Any]:
        return {
            "queues": ["default"],  # the rounds have a queue and a worker of their own (rounds_pg)
            "concurrency": 1,
            "delete_jobs": "successful",
            "fetch_job_polling_interval": self.idle_check,
            "stalled_worker_timeout": STALLED_AFTER_S,
        }

    def wait_settled(
        self, job_id: int, timeout: float, outcomes: tuple[str, ...] = ("done", "failed")
    ) -> str | None:
        """Block until this worker's last run of `job_id` ended in one of `outcomes` and Procrastinate
        has stored it (the job no longer `doing`); None on timeout. For tests and command-line tools."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._changed.wait_for(lambda: self._settled.get(job_id) in outcomes, timeout)
            outcome = self._settled.get(job_id)
        if outcome not in outcomes:
            return None
        rows = QueueRows(self.table.engine, now=self.table.now)
        while rows.doing(job_id):
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)
        return outcome
