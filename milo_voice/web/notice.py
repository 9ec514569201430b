"""The candidate notice in the browser (issue 20 item 2): the public notice page, the notice on the
candidate's pages, and consent given there (`workspace/consent.py` stores it).

- `GET /notice` shows the current notice; `GET /notice?version=N` shows version N (the SMS interview's
  link and the recruiter's profile point at the version a candidate agreed to).
- Browser stages without a consent step of their own (form, resume upload) carry the notice and a
  required "I have read the notice" box with the version shown (`notice.agree`, `notice.version`: names
  no form question can take) on their first submit: `form_agreement` checks it and records the consent
  (channel form). A version that is no longer current is refused (409) and the page shows the new one.
- The assessment, whose chat has no form to carry the box, opens on a consent step (`gate_page`,
  posted to `POST /i/{token}/notice`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.store.tables import ConsentChannel
from milo_voice.web.branding import BrandedInterviews
from milo_voice.web.candidate_limits import client_host
from milo_voice.web.repos import repo
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import Consents, Notice, Notices, StaleNotice

AGREE, VERSION = "notice.agree", "notice.version"
"""The form fields of the notice box (a question's id cannot contain a dot)."""
STALE = ("The notice has changed since this page was loaded. Please reload the page, read the notice "
         "and agree again.")
STALE_FORM = ("The notice has changed since you opened this page: please read the notice below and tick "
              "the box again.")
MISSING = "Please read the notice and tick \"I have read the notice\" to continue."


class Agreement(StrEnum):
    AGREED = "agreed"
    MISSING = "missing"
    STALE = "stale"


async def current_notice(conn: HTTPConnection) -> Notice:
    base = conn.app.state.settings.base_url
    return await run_in_threadpool(repo(conn, Notices).current, base)


async def record(request: Request, candidate_id: int, channel: ConsentChannel, notice: Notice,
                 reason: str = "") -> None:
    """Store the consent with the client's address and browser (raises `StaleNotice`)."""
    agent = request.headers.get("user-agent", "")
    consents, host = repo(request, Consents), client_host(request)
    await run_in_threadpool(lambda: consents.record_consent(candidate_id, channel, host, agent, notice,
                                                            reason=reason))


async def needed(request: Request, candidate_id: int) -> Notice | None:
    """The current notice if the candidate has not agreed to it yet (a browser stage shows it), else None."""
    notice = await current_notice(request)
    agreed = await run_in_threadpool(repo(request, Consents).has_agreed, candidate_id, notice.version)
    return None if agreed else notice


def _value(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


async def form_agreement(request: Request, candidate_id: int, fields: Mapping[str, Any]) -> Agreement:
    """A browser stage's submit: AGREED when the candidate agreed to the current notice before, or does now
    (recorded, channel form); MISSING without the ticked box; STALE when the page showed another version."""
    notice = await needed(request, candidate_id)
    if notice is None:
        return Agreement.AGREED
    if _value(fields, AGREE) != "yes":
        return Agreement.MISSING
    if _value(fields, VERSION) != str(notice.version):
        return Agreement.STALE
    try:
        await record(request, candidate_id, ConsentChannel.FORM, notice)
    except StaleNotice:
        return Agreement.STALE
    return Agreement.AGREED


def refusal(agreement: Agreement) -> tuple[str, int]:
    """The message and status of a refused agreement (400 without the box, 409 for another version)."""
    return (STALE_FORM, 409) if agreement is Agreement.STALE else (MISSING, 400)


def gate_page(request: Request, templates: Jinja2Templates, token: str, script: Any, progress: object,
              notice: Notice, error: str = "", status: int = 200) -> Response:
    """The consent step of a stage without a form of its own (the assessment)."""
    return templates.TemplateResponse(request, "candidate_notice_gate.html", {
        "script": script, "progress": progress, "notice": notice, "notice_error": error,
        "action": f"/i/{token}/notice"}, status_code=status)


async def gate_post(request: Request, templates: Jinja2Templates) -> Response:
    candidate = await run_in_threadpool(repo(request, Candidates).by_token, request.path_params["token"])
    if candidate is None or candidate.id is None:
        return templates.TemplateResponse(request, "candidate_message.html", {
            "title": "Link not found", "message": "This interview link is not valid."}, status_code=404)
    form = await request.form(max_files=0, max_fields=10)
    agreement = await form_agreement(request, candidate.id, dict(form))
    if agreement is Agreement.AGREED:
        return RedirectResponse(f"/i/{candidate.token}", status_code=303)
    script = await run_in_threadpool(repo(request, BrandedInterviews).script, candidate.interview_id)
    message, status = refusal(agreement)
    return gate_page(request, templates, candidate.token, script, None, await current_notice(request),
                     message, status)


async def notice_page(request: Request, templates: Jinja2Templates) -> Response:
    raw = request.query_params.get("version", "")
    if raw:
        base = request.app.state.settings.base_url
        found = await run_in_threadpool(repo(request, Notices).get, int(raw), base) if raw.isdigit() else None
        if found is None:
            return templates.TemplateResponse(request, "candidate_message.html", {
                "title": "Notice not found", "message": "There is no notice with this version."},
                status_code=404)
        current = await current_notice(request)
        notice, is_current = found, found.version == current.version
    else:
        notice, is_current = await current_notice(request), True
    return templates.TemplateResponse(request, "candidate_notice.html",
                                      {"notice": notice, "is_current": is_current})


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    """`templates`: the candidate pages'."""

    async def page(request: Request) -> Response:
        return await notice_page(request, templates)

    async def gate(request: Request) -> Response:
        return await gate_post(request, templates)

    return [Route("/notice", page), Route("/i/{token}/notice", gate, methods=["POST"])]
