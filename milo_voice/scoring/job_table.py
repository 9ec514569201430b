"""The durable job table: enqueue, claim, finish, retry, and re-queue what a crash left running.

Each method is one short blocking transaction (call it from a thread when on an event loop).
Claiming is a conditional UPDATE, so two workers (threads or processes, SQLite or PostgreSQL)
never run the same job twice at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select

from milo_voice.store.repo import Repo
from milo_voice.store.tables import Job, JobStatus

MAX_ERROR_CHARS = 2000


class JobTable(Repo):
    """The one writer of the `job` table."""

    def enqueue(
        self, kind: str, payload: dict[str, Any], *, delay: float = 0.0, run_after: datetime | None = None
    ) -> int:
        """A new queued job, runnable at `run_after` (else `delay` seconds from now)."""
        now = self.now()
        with self.unit() as session:
            job = Job(
                kind=kind, payload=dict(payload), run_after=run_after or now + timedelta(seconds=delay),
                created_at=now,
            )
            session.add(job)
            session.flush()
            if job.id is None:
                raise RuntimeError("job got no id on flush")
            return job.id

    def claim(self) -> Job | None:
        """Mark the oldest due queued job running and return it (attempts counted); None if none is due."""
        for _ in range(5):  # another worker may win the race for the same row: try the next one
            now = self.now()
            with self.unit() as session:
                job = session.exec(
                    select(Job)
                    .where(Job.status == JobStatus.QUEUED.value, col(Job.run_after) <= now)
                    .order_by(col(Job.run_after), col(Job.id))
                    .limit(1)
                ).first()
                if job is None:
                    return None
                won = session.execute(
                    update(Job)
                    .where(col(Job.id) == job.id, col(Job.status) == JobStatus.QUEUED.value)
                    .values(status=JobStatus.RUNNING.value, started_at=now, attempts=Job.attempts + 1)
                )
                if won.rowcount == 1:  # type: ignore[attr-defined]
                    session.refresh(job)
                    return job
        return None

    def claim_id(self, job_id: int) -> Job | None:
        """Mark this queued job running (attempts counted) and return it; None when it is not queued
        (done, failed, running elsewhere, or erased): a queue library's duplicate delivery runs nothing."""
        with self.unit() as session:
            won = session.execute(
                update(Job)
                .where(col(Job.id) == job_id, col(Job.status) == JobStatus.QUEUED.value)
                .values(status=JobStatus.RUNNING.value, started_at=self.now(), attempts=Job.attempts + 1)
            )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return session.get(Job, job_id)

    def requeue(self, job_ids: list[int]) -> None:
        """These jobs, if running, back to the queue, runnable now (a stalled worker's jobs); one that
        finished before its worker died stays finished."""
        if job_ids:
            with self.unit() as session:
                session.execute(
                    update(Job).where(col(Job.id).in_(job_ids), col(Job.status) == JobStatus.RUNNING.value)
                    .values(status=JobStatus.QUEUED.value, run_after=self.now())
                )

    def failed(self, limit: int = 100) -> list[Job]:
        """Jobs that failed for good, newest first: the dead-letter list."""
        with self.unit() as session:
            return list(session.exec(
                select(Job).where(Job.status == JobStatus.FAILED.value)
                .order_by(col(Job.finished_at).desc(), col(Job.id).desc()).limit(limit)
            ))

    def retry_failed(self, job_id: int) -> bool:
        """A failed job queued again, runnable now, for one more (final) attempt; False if not failed."""
        with self.unit() as session:
            done = session.execute(
                update(Job).where(col(Job.id) == job_id, col(Job.status) == JobStatus.FAILED.value)
                .values(status=JobStatus.QUEUED.value, run_after=self.now(), finished_at=None)
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def finish(self, job_id: int) -> None:
        self._set(job_id, status=JobStatus.DONE.value, finished_at=self.now(), error=None)

    def retry(self, job_id: int, error: str, *, delay: float) -> None:
        """Back to the queue, runnable after `delay` seconds, with the error kept."""
        self._set(
            job_id,
            status=JobStatus.QUEUED.value,
            run_after=self.now() + timedelta(seconds=delay),
            error=error[:MAX_ERROR_CHARS],
        )

    def fail(self, job_id: int, error: str) -> None:
        self._set(
            job_id, status=JobStatus.FAILED.value, finished_at=self.now(), error=error[:MAX_ERROR_CHARS]
        )

    def _set(self, job_id: int, **values: Any) -> None:
        with self.unit() as session:
            session.execute(update(Job).where(col(Job.id) == job_id).values(**values))

    def requeue_running(self) -> list[int]:
        """Jobs left running by a process that died: queued again (their attempt is not refunded)."""
        with self.unit() as session:
            ids = [
                i
                for i in session.exec(select(Job.id).where(Job.status == JobStatus.RUNNING.value))
                if i is not None
            ]
            if ids:
                session.execute(
                    update(Job)
                    .where(col(Job.id).in_(ids))
                    .values(status=JobStatus.QUEUED.value, run_after=self.now())
                )
            return ids

    def next_due(self) -> datetime | None:
        """When the earliest queued job becomes runnable; None with nothing queued."""
        with self.unit() as session:
            return session.exec(
                select(Job.run_after).where(Job.status == JobStatus.QUEUED.value).order_by(col(Job.run_after))
            ).first()

    def get(self, job_id: int) -> Job | None:
        with self.unit() as session:
            return session.get(Job, job_id)

    def depth(self) -> list[tuple[str, str, int]]:
        """(kind, status, count) of every job in the table: the queue's depth and its failures."""
        with self.unit() as session:
            rows = session.execute(select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status))
            return [(str(kind), str(status), int(count)) for kind, status, count in rows]

    def all(self, kind: str | None = None) -> list[Job]:
        with self.unit() as session:
            query = select(Job).order_by(col(Job.id))
            if kind is not None:
                query = query.where(Job.kind == kind)
            return list(session.exec(query))
