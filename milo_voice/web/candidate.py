"""The candidate's pages: the interview page at /i/{token} (or the page of the stage the candidate is
at: `stage_candidate.py`), the public share link /s/{slug}, the data notice and the thank-you page
(with the voluntary self-identification form for the bias audit: `self_id_candidate.py`).
The live call itself is `rtc.py`; the page's behaviour is `static/candidate.js` (consent before any
microphone access, device check, call, end).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from milo_voice.outreach.contacts import Contacts
from milo_voice.settings import Settings
from milo_voice.store.tables import Candidate, CandidateSource, CandidateStatus
from milo_voice.web.assessment_candidate import routes as assessment_routes
from milo_voice.web.branding import BrandedInterviews
from milo_voice.web.candidate_limits import client_host, log_refusal, public_limits, too_many_page
from milo_voice.web.notice import current_notice
from milo_voice.web.notice import routes as notice_routes
from milo_voice.web.repos import repo
from milo_voice.web.resume_candidate import submit_resume
from milo_voice.web.rtc import live_calls
from milo_voice.web.self_id_candidate import install as install_self_id
from milo_voice.web.self_id_candidate import routes as self_id_routes
from milo_voice.web.stage_candidate import stage_page, submit_form
from milo_voice.workspace.candidates import Candidates

WEB = Path(__file__).parent
templates = Jinja2Templates(directory=str(WEB / "templates"))
install_self_id(templates)  # the thank-you pages carry the voluntary self-identification form
MAX_NAME = 200
MAX_EMAIL = 320
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _not_found(request: Request, message: str) -> Response:
    return templates.TemplateResponse(request, "candidate_message.html",
                                      {"title": "Link not found", "message": message}, status_code=404)


async def interview_page(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    token = request.path_params["token"]
    found = await run_in_threadpool(repo(request, Candidates).link, token)
    if found is None:
        return _not_found(request, "This interview link is not valid. Please check the link you were sent.")
    candidate, state = found
    script = await run_in_threadpool(repo(request, BrandedInterviews).script, candidate.interview_id)
    staged, progress = await stage_page(request, templates, candidate, script)
    if staged is not None:
        await run_in_threadpool(_opened, request, candidate.id or 0)
        return staged
    resumable = live_calls(request.app).live(token) is not None
    if not state.open and not resumable:
        return templates.TemplateResponse(request, "candidate_message.html", {
            "title": "This interview is closed", "message": state.message, "script": script})
    await run_in_threadpool(_opened, request, candidate.id or 0)
    notice = await current_notice(request)  # the text agreed to; its version goes with the offer
    config = {
        "offerUrl": f"/api/rtc/{token}/offer",
        "endUrl": f"/api/rtc/{token}/end",
        "thanksUrl": f"/i/{token}/thanks",
        "iceServers": settings.ice_server_list,
        "resumeWindow": settings.resume_window,
        "noticeVersion": notice.version,
    }
    return templates.TemplateResponse(request, "candidate.html", {
        "candidate": candidate, "script": script, "config": config, "resumable": resumable,
        "progress": progress, "notice": notice,
    })


def _opened(request: Request, candidate_id: int) -> None:
    """The funnel's "opened" (first time) and the list's Last engaged (every time)."""
    candidates = repo(request, Candidates)
    candidates.mark_opened(candidate_id)
    repo(request, Contacts).engaged(candidate_id, candidates.now())


async def thanks_page(request: Request) -> Response:
    candidate = await run_in_threadpool(repo(request, Candidates).by_token, request.path_params["token"])
    if candidate is None:
        return _not_found(request, "This interview link is not valid.")
    script = await run_in_threadpool(repo(request, BrandedInterviews).script, candidate.interview_id)
    if candidate.status == CandidateStatus.ENDED_EARLY:
        return templates.TemplateResponse(request, "candidate_message.html", {
            "title": "Interview ended", "script": script,
            "message": "You ended the interview before the last question. The hiring team will see the "
                       "answers you gave; the interview cannot be continued."})
    return templates.TemplateResponse(request, "candidate_thanks.html", {"script": script, "already": False})


async def share_page(request: Request) -> Response:
    """GET: ask for name and email. POST: create the candidate and send them to their own link, unless
    this address or this link made too many candidates lately (429, see `candidate_limits.py`)."""
    interviews = repo(request, BrandedInterviews)
    slug = request.path_params["slug"]
    interview_id = await run_in_threadpool(interviews.published_id, slug)
    if interview_id is None:
        return _not_found(request, "This interview is not open. Please check the link you were given.")
    script = await run_in_threadpool(interviews.script, interview_id)
    values = {"name": "", "email": ""}
    errors: list[str] = []
    if request.method == "POST":
        limits, host, link = public_limits(request), client_host(request), f"interview:{interview_id}"
        refusal = limits.signup_check(host, link)  # before the form is read
        if refusal is not None:
            log_refusal("share", refusal, interview_id=interview_id)
            return too_many_page(request, templates, refusal, script)
        form = await request.form(max_files=0, max_fields=10)
        values = {key: str(form.get(key, "")).strip() for key in values}
        errors = _check_applicant(values["name"], values["email"])
        if not errors:
            refusal = limits.signup(host, link)  # counted only when a candidate is about to be made
            if refusal is not None:
                log_refusal("share", refusal, interview_id=interview_id)
                return too_many_page(request, templates, refusal, script)
            name, email = values["name"], values["email"]
            candidate = await run_in_threadpool(
                lambda: repo(request, Candidates).enrol(interview_id=interview_id, name=name, email=email,
                                                        source=CandidateSource.SHARE_LINK.value)
            )
            return RedirectResponse(f"/i/{candidate.token}", status_code=303)
    return templates.TemplateResponse(
        request, "candidate_share.html", {"script": script, "values": values, "errors": errors},
        status_code=400 if errors else 200,
    )


def _check_applicant(name: str, email: str) -> list[str]:
    errors = []
    if not name:
        errors.append("Please enter your name.")
    elif len(name) > MAX_NAME:
        errors.append(f"Your name can be at most {MAX_NAME} characters.")
    if not _EMAIL.match(email) or len(email) > MAX_EMAIL:
        errors.append("Please enter a valid email address, like name@example.com.")
    return errors


async def _linked(request: Request) -> tuple[Candidate, Any] | Response:
    """The candidate whose link this is, with their interview's branded script (or a 404 page)."""
    candidate = await run_in_threadpool(repo(request, Candidates).by_token, request.path_params["token"])
    if candidate is None:
        return _not_found(request, "This interview link is not valid. Please check the link you were sent.")
    return candidate, await run_in_threadpool(repo(request, BrandedInterviews).script, candidate.interview_id)


async def form_post(request: Request) -> Response:
    found = await _linked(request)
    return found if isinstance(found, Response) else await submit_form(request, templates, *found)


async def resume_post(request: Request) -> Response:
    found = await _linked(request)
    return found if isinstance(found, Response) else await submit_resume(request, templates, *found, None)


def routes() -> list[BaseRoute]:
    return [
        Route("/i/{token}", interview_page),
        Route("/i/{token}/thanks", thanks_page),
        Route("/i/{token}/form", form_post, methods=["POST"]),
        Route("/i/{token}/resume", resume_post, methods=["POST"]),
        *assessment_routes(),
        *self_id_routes(templates),
        Route("/s/{slug}", share_page, methods=["GET", "POST"]),
        *notice_routes(templates),  # /notice, and the assessment's consent step
        Mount("/static", StaticFiles(directory=str(WEB / "static")), name="static"),
    ]
