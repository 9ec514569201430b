"""An admin erases a candidate (issue 20 item 3): `workspace/erasure.py` does the work.

- `GET /app/candidates/{cid}/erase`: the form on its own page (the profile carries the same form,
  `recruiter/_erasure.html`, for admins);
- `POST /app/candidates/{cid}/erase`: `note` (why: required, kept in the tombstone and the audit event,
  scrubbed of the candidate's name, email and number) and `confirm_name` (the candidate's name typed
  again). A missing note or a name that does not match answers 400 with the form as sent; a candidate
  in a live interview 409. Done: back to the candidates list with a notice naming the erasure (the
  notice carries ids and counts only: it is kept in the server-side session until shown).

Admins only (`auth.page`); viewers and recruiters get the "Admins only" page. The JSON API has no
candidate DELETE, so there is nothing there to route through erasure.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.tables import UserRole
from milo_voice.web.erasure_wiring import eraser
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.message_pages import flash
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.erasure import MAX_REASON, Busy, Initiator, counts_text

log = logging.getLogger(__name__)


def _same_name(typed: str, name: str) -> bool:
    return " ".join(typed.split()).casefold() == " ".join(name.split()).casefold() != ""


def check(note: str, typed: str, name: str) -> list[str]:
    """What is wrong with the form (nothing: an empty list)."""
    errors = []
    if not note:
        errors.append("Write a note saying why this candidate is erased: it is kept in the audit trail.")
    elif len(note) > MAX_REASON:
        errors.append(f"The note can be at most {MAX_REASON} characters (it has {len(note)}).")
    if not _same_name(typed, name):
        errors.append("Type the candidate's name exactly as shown to confirm the erasure.")
    return errors


async def _form(request: Request, status: int = 200, **context: Any) -> Response:
    cid = int(request.path_params["cid"])
    candidate, interview = await run_in_threadpool(workspace(request).candidates.get, cid)
    values = {
        "candidate": candidate,
        "interview": interview,
        "errors": [],
        "note": "",
        "typed": "",
        **context,
    }
    return render(request, "erase_candidate.html", values, status=status)


@page(UserRole.ADMIN)
async def erase_form(request: Request) -> Response:
    return await _form(request)


@page(UserRole.ADMIN)
async def erase(request: Request) -> Response:
    ws, me = workspace(request), who(request)
    cid = int(request.path_params["cid"])
    candidate, _ = await run_in_threadpool(ws.candidates.get, cid)
    form = await request.form(max_files=0, max_fields=10)
    note, typed = str(form.get("note", "")).strip(), str(form.get("confirm_name", ""))
    errors = check(note, typed, candidate.name)
    if errors:
        log.info(
            "erasure.form_refused", extra={"candidate_id": cid, "user_id": me.user_id, "errors": len(errors)}
        )
        return await _form(request, 400, errors=errors, note=note, typed=typed)
    try:
        done = await run_in_threadpool(
            lambda: eraser(request).erase(cid, initiated_by=Initiator.ADMIN, reason=note, by=me)
        )
    except Busy as exc:
        return await _form(request, 409, errors=[str(exc)], note=note, typed=typed)
    text = (
        f"Candidate {cid} erased (erasure {done.tombstone_id}): {counts_text(done.rows)} and "
        f"{done.files} file{'s' if done.files != 1 else ''} removed."
    )
    if done.left:
        text += f" {len(done.left)} file(s) could not be removed yet: they are retried at the next erasure."
    flash(request, text)
    return RedirectResponse("/app/candidates", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/candidates/{cid:int}/erase", erase_form),
        Route("/candidates/{cid:int}/erase", erase, methods=["POST"]),
    ]
