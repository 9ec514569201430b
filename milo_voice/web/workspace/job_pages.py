"""Settings > Jobs (issue 21 item 1; admins only): the dead-letter list of background jobs.

Jobs that failed for good (every attempt used, or an error that no retry can fix), newest first, from
the queue MILO_JOB_QUEUE runs (Procrastinate's failed jobs on PostgreSQL, the job table on SQLite):
kind, when it failed, attempts, and the last error. "Retry" gives a job one more attempt, now (it is
final: a second failure puts it back on the list); every retry is an audit event (`retry` on `job`).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.scoring.queue import Queue, queue_for
from milo_voice.store.tables import UserRole
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace

PATH = "/app/settings/jobs"
SHOWN = 200
"""Failed jobs the page lists (newest first)."""
ERROR_CHARS = 500
"""Characters of a job's last error the list shows."""


def _queue(request: Request) -> Queue:
    return queue_for(workspace(request).settings, request.app.state.engine)


@page(UserRole.ADMIN)
async def show(request: Request) -> Response:
    queue = _queue(request)
    failed = await run_in_threadpool(queue.failed, SHOWN)
    retried = request.query_params.get("retried", "")
    notice = f"Job {retried} queued for one more attempt." if retried.isdigit() else ""
    return render(
        request,
        "jobs.html",
        {
            "jobs": failed,
            "backend": queue.backend,
            "notice": notice,
            "error_chars": ERROR_CHARS,
            "shown": SHOWN,
        },
    )


@page(UserRole.ADMIN)
async def retry(request: Request) -> Response:
    job_id = int(request.path_params["job_id"])
    queue, ws = _queue(request), workspace(request)
    job = await run_in_threadpool(queue.table.get, job_id)
    if job is None or not await run_in_threadpool(queue.retry, job_id):
        return PlainTextResponse("That job is not on the failed list (already retried?).", status_code=409)
    await run_in_threadpool(
        lambda: ws.audit.record(
            who(request), "retry", "job", job_id, kind=job.kind, attempts=job.attempts, backend=queue.backend
        )
    )
    return RedirectResponse(f"{PATH}?retried={job_id}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/settings/jobs", show, methods=["GET"]),
        Route("/settings/jobs/{job_id:int}/retry", retry, methods=["POST"]),
    ]
