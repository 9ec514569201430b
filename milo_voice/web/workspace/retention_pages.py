"""Settings > Retention (issue 20 item 3): the workspace's retention windows and what the sweep did.

Admins only, to see and to change. A window is a whole number of days from 1 to 3650; blank keeps
that kind of data until it is erased. A refused form shows each field's error and saves nothing.
Saving is audited (`update` on `compliance_settings`, the windows before and after); the sweep
(`workspace.retention_sweep`, every MILO_RETENTION_INTERVAL_S) applies the windows from its next
round. The page lists the last sweeps from the audit trail: when, and how much each category lost.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.tables import UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.retention import LABELS, MAX_DAYS, MIN_DAYS, Category, RetentionPolicy, parse_policy
from milo_voice.workspace.retention_store import RetentionSettings
from milo_voice.workspace.retention_sweep import last_sweeps

PATH = "/app/settings/retention"
EXPLAINED: dict[Category, tuple[str, str]] = {
    Category.RECORDINGS: (
        "the audio and video files of the interview (the session and its transcript stay)",
        "when the interview ended",
    ),
    Category.TRANSCRIPTS: (
        "what the candidate said (turns' text and word timings) and typed or texted at "
        "form, SMS and assessment stages",
        "when the interview or stage ended",
    ),
    Category.SCORES: (
        "score runs with their quoted evidence; stage scores, evidence and reasons (the decision stays)",
        "when the score was made, or the stage ended",
    ),
    Category.MESSAGES: (
        "the subject and text of emails and texts sent, and of replies received (who and when stay)",
        "when the message was sent or received",
    ),
}


def every(seconds: float) -> str:
    """How often the sweep runs, for the page: "hour", "2 hours", "15 minutes", "90 seconds"."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds / size
            return unit if count == 1 else f"{count:g} {unit}s"
    return "second" if seconds == 1 else f"{seconds:g} seconds"


def _fields(policy: RetentionPolicy) -> dict[str, str]:
    return {f"{c.value}_days": "" if policy.days(c) is None else str(policy.days(c)) for c in Category}


async def _page(
    request: Request,
    fields: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ws, store = workspace(request), repo(request, RetentionSettings)
    saved = await run_in_threadpool(store.saved)
    sweeps = await run_in_threadpool(last_sweeps, ws.audit)
    rows = [
        {
            "name": f"{c.value}_days",
            "category": c.value,
            "label": LABELS[c],
            "removes": EXPLAINED[c][0],
            "counts_from": EXPLAINED[c][1],
        }
        for c in Category
    ]
    return render(
        request,
        "retention_settings.html",
        {
            "rows": rows,
            "fields": fields or _fields(RetentionPolicy.from_row(saved)),
            "errors": errors or {},
            "saved": saved,
            "sweeps": sweeps,
            "every": every(ws.settings.retention_interval_s),
            "min_days": MIN_DAYS,
            "max_days": MAX_DAYS,
            "notice": "Saved. The next retention sweep applies these windows."
            if request.query_params.get("saved")
            else "",
        },
        status,
    )


@page(UserRole.ADMIN)
async def show(request: Request) -> Response:
    return await _page(request)


@page(UserRole.ADMIN)
async def save(request: Request) -> Response:
    ws, me = workspace(request), who(request)
    form = await request.form()
    fields = {f"{c.value}_days": str(form.get(f"{c.value}_days", "")) for c in Category}
    policy, errors = parse_policy(fields)
    if policy is None:
        return await _page(request, fields, errors, 400)
    store = repo(request, RetentionSettings)
    before = await run_in_threadpool(store.policy)
    await run_in_threadpool(lambda: store.save(policy, user_id=me.user_id))
    await run_in_threadpool(
        ws.audit.record,
        me,
        "update",
        "compliance_settings",
        1,
        before=before.as_dict(),
        after=policy.as_dict(),
    )
    return RedirectResponse(f"{PATH}?saved=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/settings/retention", show, methods=["GET"]),
        Route("/settings/retention", save, methods=["POST"]),
    ]
