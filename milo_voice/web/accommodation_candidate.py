"""The candidate's accommodation request (issue 20 item 5, docs/compliance.md), linked from every candidate
page that knows the candidate ("Need an accommodation?", `candidate_base.html`).

- `GET /i/{token}/accommodation`: the form (two boxes, "more time to answer" and "answer in writing
  instead of speaking", and free text), with the state of an earlier request (never the team's note);
- `POST /i/{token}/accommodation`: `more_time` and `in_writing` ("yes" or absent) and `text` (at most
  2,000 characters) are recorded through `workspace/accommodations.py`, which escalates the candidate to
  a person ("Needs a person"); then a confirmation that a person will reply. Anything else is a 400 that
  names the problem, shows the form again as sent and records nothing.

Like the candidate's other forms, the secret token in the path authorises the post (no session, so no
CSRF cookie; `form-action 'self'` in the CSP). At most `REQUESTS_PER_HOUR` posts per link are taken
(a 429 with Retry-After after that, in memory per process like the other public limits): each post is an
audit event and may email the admins, so a leaked link must not flood either.

Also here: the routes of the written path (`written_candidate.py`), so that `create_app` adds this
area with one line.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.store.repo import Invalid
from milo_voice.web.branding import BrandedInterviews
from milo_voice.web.candidate_limits import wait_text
from milo_voice.web.repos import repo
from milo_voice.web.written_candidate import routes as written_routes
from milo_voice.workspace.accommodations import MAX_TEXT, Accommodations, Asked
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.public_limits import SlidingWindow

log = logging.getLogger(__name__)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PATH = "/i/{token}/accommodation"
REQUESTS_PER_HOUR = 5
BOXES = ("more_time", "in_writing")


def read_request(form: FormData) -> tuple[dict[str, Any], list[str]]:
    """The request as posted (for the form shown again) and what is wrong with it."""
    values: dict[str, Any] = {"text": "", "more_time": False, "in_writing": False}
    errors: list[str] = []
    texts = [str(v) for v in form.getlist("text")]
    if len(texts) > 1:
        errors.append("Send one text box, not several.")
    values["text"] = texts[0] if texts else ""
    for name in BOXES:
        ticks = [str(v) for v in form.getlist(name)]
        if ticks not in ([], ["yes"]):
            errors.append(
                f"{name.replace('_', ' ')}: {ticks[0][:20]!r} is not a valid choice; tick the box or not."
            )
        values[name] = ticks == ["yes"]
    unknown = sorted(set(form.keys()) - {"text", *BOXES})
    if unknown:
        errors.append(f"Unexpected fields: {', '.join(k[:30] for k in unknown[:5])}.")
    if len(values["text"]) > MAX_TEXT:
        errors.append(f"Your message is {len(values['text'])} characters; please keep it to {MAX_TEXT}.")
    return values, errors


def _limit(request: Request) -> SlidingWindow:
    state = request.app.state
    found: SlidingWindow | None = getattr(state, "accommodation_requests", None)
    if found is None:
        found = state.accommodation_requests = SlidingWindow(REQUESTS_PER_HOUR, 3600.0)
    return found


def _page(request: Request, token: str, script: Any, status: int = 200, **context: Any) -> Response:
    values = {
        "script": script,
        "token": token,
        "max_text": MAX_TEXT,
        "errors": [],
        "sent": False,
        "current": "",
        "values": {"text": "", "more_time": False, "in_writing": False},
        **context,
    }
    return templates.TemplateResponse(request, "candidate_accommodation.html", values, status_code=status)


async def _candidate(request: Request) -> tuple[int, Any] | Response:
    candidate = await run_in_threadpool(repo(request, Candidates).by_token, request.path_params["token"])
    if candidate is None:
        context = {
            "title": "Link not found",
            "message": "This link is not valid. Please check the link you were sent.",
        }
        return templates.TemplateResponse(request, "candidate_message.html", context, status_code=404)
    return candidate.id or 0, await run_in_threadpool(
        repo(request, BrandedInterviews).script, candidate.interview_id
    )


async def show(request: Request) -> Response:
    found = await _candidate(request)
    if isinstance(found, Response):
        return found
    cid, script = found
    current = (await run_in_threadpool(repo(request, Accommodations).get, cid)).status
    token = request.path_params["token"]
    return _page(request, token, script, current=current, sent=request.query_params.get("sent") == "1")


async def submit(request: Request) -> Response:
    found = await _candidate(request)
    if isinstance(found, Response):
        return found
    cid, script = found
    token, now = request.path_params["token"], request.app.state.now().timestamp()
    wait = _limit(request).wait(str(cid), now)
    if wait > 0:
        log.warning(
            "public_limit_refused",
            extra={
                "reason": "accommodation_requests",
                "route": "accommodation",
                "retry_after_s": math.ceil(wait),
                "candidate_id": cid,
            },
        )
        message = (
            f"You have sent several requests in the last hour. Please wait {wait_text(math.ceil(wait))}."
        )
        response = _page(request, token, script, 429, errors=[message])
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    values, errors = read_request(await request.form(max_files=0, max_fields=10))
    if not errors:
        asked = Asked(values["text"], values["more_time"], values["in_writing"])
        settings = request.app.state.settings
        try:
            await run_in_threadpool(repo(request, Accommodations).request, cid, asked, settings)
        except Invalid as exc:
            errors = [f"{str(exc)[:1].upper()}{str(exc)[1:]}."]
    if errors:
        return _page(request, token, script, 400, values=values, errors=errors)
    _limit(request).record(str(cid), now)
    return RedirectResponse(f"/i/{token}/accommodation?sent=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [Route(PATH, show), Route(PATH, submit, methods=["POST"]), *written_routes(templates)]
