"""The job queue every room uses, on whichever backend the settings choose (issue 21 item 1).

`MILO_JOB_QUEUE`:
- `auto` (default): Procrastinate when `MILO_DATABASE_URL` is PostgreSQL, else the embedded table;
- `procrastinate`: Procrastinate (`milo_voice.scoring.queue_pg`; PostgreSQL only);
- `table`: the embedded `job` table and this process's worker (`milo_voice.scoring.jobs`).

Both backends take the same calls: `enqueue(kind, payload, delay=..., run_after=...)` returning
the `job` row's id, `failed(limit)` (the dead-letter list an admin sees), `retry(job_id)`, and a
worker built from the same `{kind: handler}` map with `start()` / `stop()`. Handlers are
written once: `jobs.run_job` runs them and decides retry or failure for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from milo_voice.errors import ConfigError
from milo_voice.scoring.job_table import JobTable
from milo_voice.scoring.jobs import Handler, LocalQueue, Worker
from milo_voice.settings import Settings
from milo_voice.store.db import DbEngine
from milo_voice.store.tables import Job

BACKENDS = ("auto", "table", "procrastinate")


class Queue(Protocol):
    backend: str
    table: JobTable

    def enqueue(
        self, kind: str, payload: dict[str, Any], *, delay: float = 0.0, run_after: datetime | None = None
    ) -> int: ...

    def failed(self, limit: int = 100) -> list[Job]: ...

    def retry(self, job_id: int) -> bool: ...


class Runner(Protocol):
    table: JobTable

    def start(self) -> list[int]: ...

    def stop(self, timeout: float = 30.0) -> None: ...

    def wait_settled(
        self, job_id: int, timeout: float, outcomes: tuple[str, ...] = ("done", "failed")
    ) -> str | None: ...


def is_postgres(database_url: str) -> bool:
    return database_url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def backend_for(settings: Settings) -> str:
    """`table` or `procrastinate`, from MILO_JOB_QUEUE and MILO_DATABASE_URL."""
    choice = settings.job_queue
    if choice not in BACKENDS:
        raise ConfigError(f"MILO_JOB_QUEUE={choice!r}: expected one of {', '.join(BACKENDS)}")
    postgres = is_postgres(settings.database_url)
    if choice == "procrastinate" and not postgres:
        raise ConfigError("MILO_JOB_QUEUE=procrastinate needs a PostgreSQL MILO_DATABASE_URL")
    if choice == "auto":
        return "procrastinate" if postgres else "table"
    return choice


def queue_for(settings: Settings, engine: DbEngine) -> Queue:
    """The queue to enqueue on (any process on the database: web, calls, workers)."""
    table = JobTable(engine)
    if backend_for(settings) == "procrastinate":
        from milo_voice.scoring.queue_pg import ProcrastinateQueue

        return ProcrastinateQueue(table, settings.database_url)
    return LocalQueue(table)


def worker_for(settings: Settings, engine: DbEngine, handlers: Mapping[str, Handler], **kw: Any) -> Runner:
    """The worker that runs `handlers` (MILO_JOB_MAX_ATTEMPTS attempts, MILO_JOB_BACKOFF doubling)."""
    table = JobTable(engine)
    attempts = {"max_attempts": settings.job_max_attempts, "backoff": settings.job_backoff}
    if backend_for(settings) == "procrastinate":
        from milo_voice.scoring.queue_pg import ProcrastinateWorker

        return ProcrastinateWorker(table, handlers, settings.database_url, **attempts, **kw)
    return Worker(table, handlers, **attempts, **kw)


def close_queues() -> None:
    """Release what enqueueing holds open (Procrastinate's connection pool); the table holds nothing."""
    from milo_voice.scoring.queue_pg import close_apps

    close_apps()
