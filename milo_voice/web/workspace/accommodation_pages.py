"""Accommodations on the candidate profile (issue 20 item 5, docs/compliance.md): the candidate's request
and what is in force, and the admin's answer.

The panel (`recruiter/_accommodation.html`) is shown to admins only: a request may carry health data,
and viewers review and rate candidates, so they see nothing of it (nor does the profile's activity list:
the audit events' target type is `accommodation`; admins read them in the audit trail).

`POST /app/candidates/{cid}/accommodation` (admins, CSRF): `action=grant` with `multiplier` (1.0 to
3.0), `text_only` ("yes" or absent) and an optional `note`; or `action=decline` with a `note` (required).
Anything else is a 400 naming the problem, and nothing changes.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.repo import Invalid
from milo_voice.store.tables import UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.accommodations import MAX_MULTIPLIER, MAX_TEXT, MIN_MULTIPLIER, Accommodations


async def accommodation_context(request: Request, cid: int) -> dict[str, object]:
    """What the profile's Accommodations panel shows (nothing for viewers)."""
    me = who(request)
    if not me.is_admin:
        return {"accommodation": None}
    accommodations = repo(request, Accommodations)
    row = await run_in_threadpool(accommodations.get, cid)
    handler = ""
    if row.handled_by is not None:
        user = await run_in_threadpool(workspace(request).accounts.user, row.handled_by)
        handler = user.email if user is not None else "a former teammate"
    return {
        "accommodation": row,
        "accommodation_handler": handler,
        "text_path": await run_in_threadpool(accommodations.text_path, cid),
        "multiplier_range": (MIN_MULTIPLIER, MAX_MULTIPLIER),
        "note_max": MAX_TEXT,
    }


def _one(values: list[str], name: str) -> str:
    if len(values) > 1:
        raise Invalid(f"{name}: send one value, not {len(values)}")
    return values[0] if values else ""


@page(UserRole.ADMIN)
async def answer(request: Request) -> Response:
    cid = int(request.path_params["cid"])
    form = await request.form(max_files=0, max_fields=10)
    action = _one([str(v) for v in form.getlist("action")], "action")
    note = _one([str(v) for v in form.getlist("note")], "note")
    accommodations = repo(request, Accommodations)
    if action == "grant":
        ticked = _one([str(v) for v in form.getlist("text_only")], "text_only")
        if ticked not in ("", "yes"):
            raise Invalid(f"text_only: {ticked[:20]!r} is not a choice (tick the box or not)")
        multiplier = _one([str(v) for v in form.getlist("multiplier")], "multiplier") or "1.0"
        await run_in_threadpool(
            lambda: accommodations.grant(
                who(request), cid, multiplier=multiplier, text_only=ticked == "yes", note=note
            )
        )
    elif action == "decline":
        await run_in_threadpool(lambda: accommodations.decline(who(request), cid, note=note))
    else:
        raise Invalid(f"action {action[:20]!r}: expected grant or decline")
    return RedirectResponse(f"/app/candidates/{cid}#accommodation", status_code=303)


def routes() -> list[BaseRoute]:
    return [Route("/candidates/{cid:int}/accommodation", answer, methods=["POST"])]
