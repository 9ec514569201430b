"""The durable job worker: retries with backoff, gives up when told, and survives a SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from scoring_builders import build_session

from milo_voice.calls.session_store import SessionStore
from milo_voice.errors import EngineUnavailable
from milo_voice.scoring.job_table import JobTable
from milo_voice.scoring.jobs import LocalQueue, Worker
from milo_voice.scoring.service import SCORE_JOB, build
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.tables import CandidateStatus, Job, JobStatus
from milo_voice.workspace.candidates import Candidates

WAIT = 30.0


def test_backoff_doubles_after_each_failure(store: SessionStore) -> None:
    worker = Worker(JobTable(store.engine), {}, backoff=1.5)
    assert [worker.backoff_for(n) for n in (1, 2, 3, 4)] == [1.5, 3.0, 6.0, 12.0]


def test_a_failing_job_is_retried_until_it_succeeds(store: SessionStore) -> None:
    table = JobTable(store.engine)
    calls: list[tuple[int, bool]] = []

    async def flaky(job: Job, final: bool) -> None:
        calls.append((job.attempts, final))
        if job.attempts < 3:
            raise RuntimeError(f"boom {job.attempts}")

    worker = Worker(table, {"flaky": flaky}, max_attempts=3, backoff=0.05)
    worker.start()
    try:
        job_id = LocalQueue(table).enqueue("flaky", {})
        assert worker.wait_settled(job_id, WAIT) == "done"
    finally:
        worker.stop()
    assert calls == [(1, False), (2, False), (3, True)]
    job = table.get(job_id)
    assert job is not None and job.status == JobStatus.DONE and job.error is None


def test_an_error_that_a_retry_cannot_fix_fails_the_job_at_once(store: SessionStore) -> None:
    table = JobTable(store.engine)

    async def refused(job: Job, final: bool) -> None:
        raise EngineUnavailable("HTTP 401", retryable=False)

    worker = Worker(table, {"refused": refused}, max_attempts=5, backoff=0.05)
    job_id = table.enqueue("refused", {})
    worker.start()
    try:
        assert worker.wait_settled(job_id, WAIT) == "failed"
    finally:
        worker.stop()
    job = table.get(job_id)
    assert job is not None and job.attempts == 1 and "HTTP 401" in (job.error or "")


CRASHING_WORKER = textwrap.dedent(
    """
    import sys, threading
    from milo_voice.store.db import create_engine
    from milo_voice.scoring.job_table import JobTable
    table = JobTable(create_engine(sys.argv[1]))
    job = table.claim()
    print("claimed", job.id, flush=True)
    threading.Event().wait()  # scoring "takes forever" until SIGKILL
    """
)


def test_a_scoring_job_killed_mid_run_runs_again_when_the_server_restarts(
    settings: Settings, store: SessionStore, tmp_path: Path
) -> None:
    built = build_session(store, {0: "Yes, I can.", 1: "I listen and apologise."})
    runtime = build(settings, store.engine, Candidates(store.engine))
    runtime.service.enqueue_scoring(built.session_id)
    with subprocess.Popen(
        [sys.executable, "-c", CRASHING_WORKER, settings.database_url], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().split()
            assert line[0] == "claimed"
            job_id = int(line[1])
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    job = JobTable(store.engine).get(job_id)
    assert job is not None and job.status == JobStatus.RUNNING and job.kind == SCORE_JOB
    assert runtime.start() == [job_id]
    try:
        assert runtime.worker.wait_settled(job_id, WAIT) == "done"
    finally:
        runtime.stop()
    candidate = next(
        c for c in ScoringStore(store.engine).candidates(built.interview_id) if c.id == built.candidate_id
    )
    assert candidate.status == CandidateStatus.COMPLETED
    assert len(ScoringStore(store.engine).scores(built.session_id)) == 1
