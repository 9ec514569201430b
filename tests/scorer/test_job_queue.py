"""The job queue interface on both backends (issue 21 item 1): the embedded job table on SQLite and
Procrastinate on a real PostgreSQL (Debian's server, started per test). The same handlers run on both:
a job runs once, a failing job is retried with backoff and lands on the failed list, a retry from that
list runs it again, a job scheduled for later waits for its time, and two workers on one database run
every job exactly once."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from postgres import postgres_url  # noqa: F401  (fixture)
from scoring_builders import build_session
from starlette.testclient import TestClient
from webhook_receiver import WebhookReceiver
from workspace.support import ADMIN, PASSWORD, VIEWER, csrf_of, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.errors import ConfigError
from milo_voice.scoring.jobs import Handler
from milo_voice.scoring.queue import Queue, Runner, backend_for, close_queues, queue_for, worker_for
from milo_voice.scoring.queue_pg import ProcrastinateWorker
from milo_voice.scoring.service import build
from milo_voice.scoring.store import ScoringStore
from milo_voice.scoring.webhooks import new_secret
from milo_voice.settings import Settings
from milo_voice.store.db import DbEngine, create_engine, migrate
from milo_voice.store.tables import Job
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates

WAIT = 30.0
PAGE = "/app/settings/jobs"
BACKOFF = 0.3
FAST = 0.2
"""Seconds between polls of an idle worker for jobs that became due (retries, scheduled jobs)."""


@dataclass
class Backend:
    name: str
    settings: Settings
    engine: DbEngine

    def queue(self) -> Queue:
        return queue_for(self.settings, self.engine)

    def worker(self, handlers: dict[str, Handler]) -> Runner:
        return worker_for(self.settings, self.engine, handlers, idle_check=FAST)


@pytest.fixture(params=["table", "procrastinate"])
def backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Backend]:
    """The job table on SQLite, or Procrastinate on PostgreSQL; migrated, fast backoff, 3 attempts."""
    url = settings.database_url if request.param == "table" else request.getfixturevalue("postgres_url")
    chosen = settings.with_overrides(database_url=url, job_backoff=BACKOFF, job_max_attempts=3)
    assert backend_for(chosen) == request.param, "auto picks Procrastinate on PostgreSQL, the table on SQLite"
    migrate(url)
    engine = create_engine(url)
    try:
        yield Backend(request.param, chosen, engine)
    finally:
        close_queues()
        engine.dispose()


class Recorder:
    """Handlers that note every run (job id, attempts, final flag, time), thread-safe."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, int, int, bool, float]] = []
        self.lock = threading.Lock()
        self.broken = True

    def handler(self, label: str, *, fail: bool = False, pause: float = 0.0) -> Handler:
        async def run(job: Job, final: bool) -> None:
            with self.lock:
                self.runs.append((label, job.id or 0, job.attempts, final, time.monotonic()))
            if pause:
                await asyncio.sleep(pause)
            if fail and self.broken:
                raise RuntimeError("the receiver is down")

        return run

    def of(self, job_id: int) -> list[tuple[str, int, int, bool, float]]:
        with self.lock:
            return [r for r in self.runs if r[1] == job_id]


def queue_rows(engine: DbEngine, job_id: int) -> list[tuple[str, str, int]]:
    """Procrastinate's rows carrying this job: (task, status, attempts)."""
    query = sa.text("SELECT task_name, status, attempts FROM procrastinate_jobs WHERE args->>'job_id' = :j")
    with engine.connect() as connection:
        return [(str(t), str(s), int(a)) for t, s, a in connection.execute(query, {"j": str(job_id)})]


def test_a_job_runs_once_and_a_failing_one_is_retried_with_backoff_then_listed_and_retried(
    backend: Backend,
) -> None:
    calls = Recorder()
    worker = backend.worker({"ok": calls.handler("ok"), "bad": calls.handler("bad", fail=True)})
    queue = backend.queue()
    worker.start()
    try:
        good = queue.enqueue("ok", {"n": 1})
        broken = queue.enqueue("bad", {"n": 2})
        assert worker.wait_settled(good, WAIT) == "done"
        assert worker.wait_settled(broken, WAIT) == "failed"
        assert [(r[2], r[3]) for r in calls.of(good)] == [(1, False)], "ran once, not its last attempt"
        tries = calls.of(broken)
        assert [(r[2], r[3]) for r in tries] == [(1, False), (2, False), (3, True)]
        gaps = [b[4] - a[4] for a, b in itertools.pairwise(tries)]
        assert gaps[0] >= BACKOFF * 0.9 and gaps[1] >= 2 * BACKOFF * 0.9, f"backoff doubles: {gaps}"

        (dead,) = queue.failed(10)
        assert (dead.id, dead.kind, dead.attempts) == (broken, "bad", 3)
        assert dead.error == "RuntimeError: the receiver is down" and dead.finished_at is not None
        if backend.name == "procrastinate":
            assert queue_rows(backend.engine, broken) == [("bad", "failed", 3)], "Procrastinate's failed list"
            assert queue_rows(backend.engine, good) == [], "succeeded jobs are deleted; the job row stays"

        calls.broken = False
        assert queue.retry(broken) is True
        assert queue.retry(good) is False, "only a failed job can be retried"
        assert worker.wait_settled(broken, WAIT, ("done",)) == "done"
    finally:
        worker.stop()
    assert [(r[2], r[3]) for r in calls.of(broken)][-1] == (4, True), "one more attempt, the final one"
    assert queue.failed(10) == []
    assert queue.table.get(good).status == queue.table.get(broken).status == "done"  # type: ignore[union-attr]


def test_a_job_scheduled_for_later_runs_after_its_time(backend: Backend) -> None:
    calls = Recorder()
    worker = backend.worker({"remind": calls.handler("remind")})
    queue = backend.queue()
    worker.start()
    try:
        due = queue.table.now() + timedelta(seconds=1.5)
        started = time.monotonic()
        later = queue.enqueue("remind", {}, run_after=due)
        soon = queue.enqueue("remind", {}, delay=0.0)
        assert worker.wait_settled(soon, WAIT) == "done"
        assert calls.of(later) == [], "not before its time"
        assert worker.wait_settled(later, WAIT) == "done"
    finally:
        worker.stop()
    ((_, _, _, _, at),) = calls.of(later)
    assert at - started >= 1.4
    row = queue.table.get(later)
    assert row is not None and row.started_at is not None and row.started_at >= due


@pytest.mark.parametrize("jobs", [40])
def test_two_workers_on_one_database_run_every_job_exactly_once(backend: Backend, jobs: int) -> None:
    calls = Recorder()
    workers = [backend.worker({"work": calls.handler(name, pause=0.02)}) for name in ("a", "b")]
    queue = backend.queue()
    for worker in workers:
        worker.start()
    try:
        ids = [queue.enqueue("work", {"n": n}) for n in range(jobs)]
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not all(
            any(w.wait_settled(i, 0) == "done" for w in workers) for i in ids
        ):
            time.sleep(0.1)
    finally:
        for worker in workers:
            worker.stop()
    ran = sorted(r[1] for r in calls.runs)
    assert ran == sorted(ids), "each job ran exactly once"
    by = {label: sum(1 for r in calls.runs if r[0] == label) for label in ("a", "b")}
    assert by["a"] > 0 and by["b"] > 0, f"both workers took jobs: {by}"
    assert {queue.table.get(i).status for i in ids} == {"done"}  # type: ignore[union-attr]


def test_the_admin_page_lists_a_failed_job_and_retries_it_audited(backend: Backend) -> None:
    accounts = Accounts(backend.engine)
    accounts.create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    accounts.create_user(email=VIEWER, password=PASSWORD, role="viewer", name="Vic Viewer")
    calls = Recorder()
    worker = backend.worker({"score_session": calls.handler("score", fail=True)})
    worker.start()
    try:
        job = backend.queue().enqueue("score_session", {"session_id": 7})
        assert worker.wait_settled(job, WAIT) == "failed"
        with TestClient(create_app(backend.settings, backend.engine), base_url="http://testserver") as admin:
            login(admin, ADMIN)
            page = admin.get(PAGE)
            assert page.status_code == 200 and f'href="{PAGE}"' in page.text, "linked from the nav"
            assert f'<strong id="job-backend">{backend.name}</strong>' in page.text
            row = re.search(rf'<tr class="failed-job" id="job-{job}">(.*?)</tr>', page.text, re.S)
            assert row and "score_session" in row.group(1) and "<td>3</td>" in row.group(1)
            assert "RuntimeError: the receiver is down" in row.group(1)
            calls.broken = False
            retried = admin.post(
                f"{PAGE}/{job}/retry", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
            )
            assert retried.status_code == 303
            assert worker.wait_settled(job, WAIT, ("done",)) == "done"
            after = admin.get(retried.headers["location"]).text
            assert f"Job {job} queued for one more attempt." in after and 'id="no-failed-jobs"' in after
            again = admin.post(f"{PAGE}/{job}/retry", data={"csrf_token": csrf_of(after)})
            assert again.status_code == 409, "a job that is not failed is not retried"
        with TestClient(create_app(backend.settings, backend.engine), base_url="http://testserver") as viewer:
            login(viewer, VIEWER)
            assert f'href="{PAGE}"' not in viewer.get("/app/interviews").text
            assert viewer.get(PAGE).status_code == 403
    finally:
        worker.stop()
    (event,) = Audit(backend.engine).recent(target_type="job")
    assert (event.action, event.target_id) == ("retry", str(job))
    assert event.detail["kind"] == "score_session" and event.detail["backend"] == backend.name


def test_the_queue_setting_is_checked(settings: Settings) -> None:
    assert backend_for(settings) == "table"
    pg = settings.with_overrides(database_url="postgresql+psycopg://milo@db/milo")
    assert backend_for(pg) == "procrastinate"
    assert backend_for(pg.with_overrides(job_queue="table")) == "table"
    with pytest.raises(ConfigError, match="MILO_JOB_QUEUE=procrastinate needs a PostgreSQL"):
        backend_for(settings.with_overrides(job_queue="procrastinate"))
    with pytest.raises(ConfigError, match="MILO_JOB_QUEUE='redis'"):
        backend_for(settings.with_overrides(job_queue="redis"))


def test_scoring_and_its_webhooks_run_on_procrastinate(settings: Settings, postgres_url: str) -> None:  # noqa: F811
    """The real handlers, unchanged: the scoring job, then its two webhook jobs, one answered 500 first."""
    settings = settings.with_overrides(database_url=postgres_url, job_backoff=0.2)
    migrate(postgres_url)
    store = SessionStore(create_engine(postgres_url))
    built = build_session(store, {0: "Yes.", 1: "I listen and apologise."})
    runtime = build(settings, store.engine, Candidates(store.engine))
    assert isinstance(runtime.worker, ProcrastinateWorker)
    secret = new_secret()
    try:
        with WebhookReceiver(secret, [500, 200]) as receiver:
            scoring = ScoringStore(store.engine)
            scoring.add_endpoint(receiver.url, secret, ["interview.completed", "report.available"])
            runtime.start()
            try:
                job_id = runtime.service.enqueue_scoring(built.session_id)
                assert runtime.worker.wait_settled(job_id, WAIT) == "done"
                for job in runtime.worker.table.all("webhook"):
                    assert runtime.worker.wait_settled(job.id or 0, WAIT) == "done"
            finally:
                runtime.stop()
        log = {d.event: d for d in scoring.deliveries()}
        assert set(log) == {"interview.completed", "report.available"}
        assert all(d.status == "delivered" and d.response_status == 200 for d in log.values())
        assert sum(d.attempts for d in log.values()) == 3, "one was answered 500 first and retried"
        assert scoring.context(built.session_id).candidate.status == "completed"
    finally:
        store.engine.dispose()
