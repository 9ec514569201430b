"""Needs a person (`/app/needs-a-person`): candidates whose words or texts asked for a human, an
accommodation, or showed repeated confusion (`workspace/escalate.py`). Automation is paused for
each until an admin marks it handled (Resume), which is audited. Everyone signed in sees the queue.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.escalation import LABELS, FlagKind
from milo_voice.store.tables import UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace

KIND_LABELS = {kind.value: label for kind, label in LABELS.items()}


@page()
async def queue(request: Request) -> Response:
    ws = workspace(request)
    flagged = await run_in_threadpool(repo(request, Contacts).flagged)
    titles: dict[int, str] = {}
    for row in flagged:
        if row.interview_id not in titles:
            titles[row.interview_id] = (await run_in_threadpool(ws.interviews.get, row.interview_id)).title
    context = {"flagged": flagged, "titles": titles, "kinds": KIND_LABELS}
    return render(request, "needs_a_person.html", context)


@page(UserRole.ADMIN)
async def resume(request: Request) -> Response:
    ws, cid = workspace(request), int(request.path_params["cid"])
    await run_in_threadpool(ws.candidates.get, cid)  # an unknown candidate is a 404
    contacts = repo(request, Contacts)
    before = await run_in_threadpool(contacts.get, cid)
    await run_in_threadpool(contacts.resume, cid)
    await run_in_threadpool(ws.audit.record, who(request), "resume_outreach", "candidate", cid,
                            flag=before.flag_kind, reason=before.pause_reason[:200])
    back = str((await request.form()).get("next", ""))
    target = back if back == "/app/needs-a-person" else f"/app/candidates/{cid}"  # never an open redirect
    return RedirectResponse(target, status_code=303)


def profile_context(contact: object) -> dict[str, object]:
    """What the profile's "needs a person" box shows."""
    kind = getattr(contact, "flag_kind", "")
    return {"needs_person": contact if kind else None,
            "needs_person_label": KIND_LABELS.get(kind, FlagKind.REPLY.value)}


def routes() -> list[BaseRoute]:
    return [Route("/needs-a-person", queue, methods=["GET"]),
            Route("/candidates/{cid:int}/resume", resume, methods=["POST"])]
