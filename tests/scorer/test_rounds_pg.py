"""Rounds (the outreach round, the retention sweep) as Procrastinate periodic tasks on a real PostgreSQL
(issue 21 item 1): two nodes' rounds workers on one database run each period's round once, never two
runs of one round at a time, a round that raises is run again next period, and the jobs worker never
takes a round. `serve`'s wiring runs the rounds there on PostgreSQL and in threads on SQLite."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from postgres import postgres_url  # noqa: F401  (fixture)

from milo_voice.scoring.job_table import JobTable
from milo_voice.scoring.queue import close_queues
from milo_voice.scoring.queue_pg import ProcrastinateWorker
from milo_voice.scoring.rounds_pg import ProcrastinateRounds, Round, cron_every
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.web.server import start_rounds


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [
        (1, "* * * * * *"),
        (5, "* * * * * */5"),
        (7, "* * * * * */6"),  # the nearest period that divides a minute
        (60, "* * * * *"),
        (600, "*/10 * * * *"),
        (3600, "0 * * * *"),
        (4 * 3600, "0 */4 * * *"),
        (3 * 86400, "0 0 * * *"),
    ],
)
def test_a_rounds_period_becomes_the_nearest_even_cron(seconds: float, cron: str) -> None:
    assert cron_every(seconds) == cron


def test_a_period_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="> 0"):
        cron_every(0)


@dataclass
class Runs:
    """Every run of a round: (node, start, end) on the monotonic clock; `fail_first` runs raise."""

    hold_s: float = 0.3
    fail_first: int = 0
    runs: list[tuple[str, float, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, node: str) -> Callable[[], None]:
        def run() -> None:
            start = time.monotonic()
            with self._lock:
                failing = len(self.runs) < self.fail_first
            time.sleep(self.hold_s)
            with self._lock:
                self.runs.append((node, start, time.monotonic()))
            if failing:
                raise RuntimeError("the round's provider is down")

        return run

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.runs) >= count:
                    return True
            time.sleep(0.05)
        return False


def procrastinate_rows(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [(str(t), str(s)) for t, s in conn.execute(
                sa.text("SELECT task_name, status FROM procrastinate_jobs ORDER BY id"))]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_nodes_run_each_period_once_and_never_together(postgres_url: str) -> None:  # noqa: F811
    migrate(postgres_url)
    runs = Runs(hold_s=0.3)
    nodes = [ProcrastinateRounds([Round("tick", runs.on(name), 1.0)], postgres_url, name=name, idle_check=0.2)
             for name in ("node-a", "node-b")]
    engine = create_engine(postgres_url)
    jobs = ProcrastinateWorker(JobTable(engine), {"noop": lambda job, final: _nothing()}, postgres_url,
                               idle_check=0.2)
    jobs.start()
    try:
        for node in nodes:
            node.start()
        time.sleep(6.0)
    finally:
        for node in nodes:
            node.stop()
        jobs.stop()
        close_queues()
        engine.dispose()
    spans = sorted(runs.runs, key=lambda r: r[1])
    # one run per second across both nodes (each node on its own would make about twelve)
    assert 4 <= len(spans) <= 8, spans
    for (_, _, end), (_, start, _) in itertools.pairwise(spans):
        assert start >= end - 0.01, f"two runs of one round overlapped: {spans}"
    rows = procrastinate_rows(postgres_url)
    assert all(status != "failed" for _, status in rows), rows  # the jobs worker never took a round


async def _nothing() -> None:
    return None


@pytest.mark.postgres
def test_a_round_that_raises_is_logged_and_runs_again_next_period(
    postgres_url: str, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    migrate(postgres_url)
    runs = Runs(hold_s=0.0, fail_first=2)
    rounds = ProcrastinateRounds([Round("sweep", runs.on("node-a"), 1.0)], postgres_url, idle_check=0.2)
    rounds.start()
    try:
        assert runs.wait_for(4, timeout=15.0), runs.runs
    finally:
        rounds.stop()
    failed = [r for r in caplog.records if r.getMessage() == "rounds.failed"]
    assert len(failed) == 2 and all(getattr(r, "round", "") == "sweep" for r in failed)
    assert all(status != "failed" for _, status in procrastinate_rows(postgres_url))


def test_two_rounds_of_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="share a name"):
        ProcrastinateRounds([Round("a", lambda: None, 1), Round("a", lambda: None, 2)], "postgresql://x/y")


@pytest.mark.postgres
def test_serve_runs_the_sweep_as_a_periodic_task_on_postgresql(
    postgres_url: str, settings: Settings  # noqa: F811
) -> None:
    migrate(postgres_url)
    on_pg = settings.with_overrides(database_url=postgres_url, retention_interval_s=1.0)
    runs = Runs(hold_s=0.0)
    stop = start_rounds(on_pg, None, runs.on("this node"))
    try:
        assert runs.wait_for(2, timeout=10.0), runs.runs
    finally:
        stop()
    after = len(runs.runs)
    time.sleep(1.5)
    assert len(runs.runs) == after, "a stopped node runs no more rounds"


def test_serve_runs_the_sweep_in_a_thread_on_sqlite(settings: Settings) -> None:
    migrate(settings.database_url)
    runs = Runs(hold_s=0.0)
    stop = start_rounds(settings.with_overrides(retention_interval_s=3600.0), None, runs.on("this node"))
    try:
        assert runs.wait_for(1, timeout=5.0), "the thread sweeps once at start"
    finally:
        stop()
    assert [node for node, _, _ in runs.runs] == ["this node"]

