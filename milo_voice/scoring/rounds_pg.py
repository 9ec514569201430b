"""Rounds on Procrastinate: work that runs every so often (the outreach round that sends invitations and
reminders, the retention sweep) as Procrastinate periodic tasks, when the job queue is Procrastinate
(issue 21 item 1; docs/deploy.md, Job queue).

Each period's round is deferred once across every node (Procrastinate keeps one row per task and
period in `procrastinate_periodic_defers`), runs on whichever node's rounds worker takes it, and never
alongside another run of the same round (a `lock` per round; a `queueing_lock` keeps at most one
waiting, so a slow round is not followed by a pile of late ones). The rounds have their own queue and
their own worker thread, so a long scoring job never delays an invitation.

On the embedded table backend each process runs its rounds in threads of its own instead
(`outreach.worker.OutreachWorker`, `workspace.retention_worker.RetentionWorker`): one process, nothing
to share.

A round that raises is logged and counted as done: the next period runs it again, as the threads do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from procrastinate import App, PsycopgConnector

from milo_voice.scoring.queue_pg import conninfo
from milo_voice.scoring.worker_thread import WorkerThread

log = logging.getLogger(__name__)

QUEUE = "milo_rounds"
"""Procrastinate queue of the rounds (the jobs worker listens to `default` only)."""
TASK_PREFIX = "milo.round."


@dataclass(frozen=True)
class Round:
    name: str
    """Short and stable: it names the task (`milo.round.<name>`), its lock and its periodic id."""
    run: Callable[[], object]
    """One round, blocking (it runs in a thread of the rounds worker)."""
    every_s: float
    """The wished period; Procrastinate's cron runs it at `cron_every(every_s)`."""


def _nearest_divisor(value: float, whole: int) -> int:
    divisors = [d for d in range(1, whole + 1) if whole % d == 0]
    return min(divisors, key=lambda d: (abs(d - value), d))


def cron_every(seconds: float) -> str:
    """A cron line (seconds as the 6th field, as Procrastinate reads it) that runs about every `seconds`:
    the nearest period that divides a minute, an hour or a day evenly (5 -> every 5 s; 7 -> every 6 s;
    3600 -> on the hour; more than a day -> daily at midnight UTC)."""
    if seconds <= 0:
        raise ValueError(f"a round's period must be > 0 seconds, not {seconds}")
    if seconds < 60:
        step = _nearest_divisor(seconds, 60)
        return "* * * * * *" if step == 1 else f"* * * * * */{step}"
    if seconds < 3600:
        step = _nearest_divisor(seconds / 60, 60)
        return "* * * * *" if step == 1 else f"*/{step} * * * *"
    if seconds < 86400:
        step = _nearest_divisor(seconds / 3600, 24)
        return "0 * * * *" if step == 1 else f"0 */{step} * * *"
    return "0 0 * * *"


def task_name(name: str) -> str:
    return TASK_PREFIX + name


class ProcrastinateRounds(WorkerThread[None]):
    """A Procrastinate worker for `rounds` in its own thread and event loop; each round runs in a thread
    of that loop (`asyncio.to_thread`), so the worker's heartbeat goes on during a long round."""

    def __init__(
        self, rounds: Sequence[Round], database_url: str, *, name: str = "milo-rounds",
        idle_check: float = 1.0,
    ) -> None:
        names = [r.name for r in rounds]
        if len(set(names)) != len(names):
            raise ValueError(f"two rounds share a name: {names}")
        super().__init__(name)
        self.rounds, self.database_url = list(rounds), database_url
        self.idle_check = idle_check

    def app(self) -> App:
        app = App(connector=PsycopgConnector(conninfo=conninfo(self.database_url), min_size=1, max_size=2))
        for one in self.rounds:
            task = app.task(name=task_name(one.name), queue=QUEUE, lock=task_name(one.name),
                            queueing_lock=task_name(one.name))(self._task_for(one))
            app.periodic(cron=cron_every(one.every_s), periodic_id=one.name)(task)
        return app

    def _task_for(self, one: Round) -> Any:
        async def run(timestamp: int) -> None:
            await asyncio.to_thread(self.run_round, one, timestamp)

        run.__name__ = run.__qualname__ = f"round_{one.name}"
        return run

    def run_round(self, one: Round, timestamp: int) -> bool:
        """One round, timed; False when it raised (logged with its traceback; the next period retries)."""
        started = time.monotonic()
        try:
            one.run()
        except Exception:  # a bad round must not fail the task for good or stop the worker
            log.exception("rounds.failed", extra={"round": one.name, "period": timestamp, "node": self.name})
            return False
        log.debug("rounds.done", extra={"round": one.name, "period": timestamp,
                                        "seconds": round(time.monotonic() - started, 3)})
        return True

    def start(self) -> None:
        """Start the worker thread; returns once it is connected (raises if it cannot connect)."""
        self.start_thread()
        for one in self.rounds:
            log.info("rounds.scheduled", extra={"round": one.name, "cron": cron_every(one.every_s),
                                                "wished_s": one.every_s})

    async def prepare(self, app: App) -> None:
        return None

    def worker_options(self) -> dict[str, Any]:
        return {
            "queues": [QUEUE],
            "concurrency": 1,
            "delete_jobs": "always",
            "fetch_job_polling_interval": self.idle_check,
        }
