"""The candidate's privacy page (issue 20 item 3): download their data, or ask to be erased.

- `GET /i/{token}/privacy`: what the two buttons do (every candidate page links here, in the footer of
  `candidate_base.html`).
- `POST /i/{token}/privacy/download`: a ZIP of everything held about them (`workspace/data_export.py`),
  built in a private folder under `MILO_UPLOADS_DIR/.exports` and deleted once sent (folders a broken
  download left are swept on the next one). Limited per link and per address (`privacy_limits.py`),
  logged (`privacy.download`) and audited (`data_download`).
- `POST /i/{token}/privacy/erase`: a confirmation link (`/i/erase/{code}`, valid 48 hours, once) is
  emailed to the address on file, straight over the email channel (`workspace/erasure_requests.py` says
  why not through the outbox). No address on file, no email channel, or a failed send: the page says
  so and tells them to contact the company; each case is logged.
- `GET /i/erase/{code}`: a button (a mail scanner that opens the link erases nothing); `POST`: erases
  (`workspace/erasure.py`, "candidate request #id" as the reason) and says it is done. An expired, used
  or unknown link gets its own page (410, 200, 404).

As on the candidate's other pages, the secret in the path authorises the post (no session, no CSRF
cookie; `form-action 'self'` in the CSP).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.errors import EngineUnavailable
from milo_voice.outreach.compose import channels_from
from milo_voice.outreach.types import ChannelName
from milo_voice.settings import Settings
from milo_voice.store.repo import NotFound
from milo_voice.store.tables import Candidate
from milo_voice.web.branding import BrandedInterviews
from milo_voice.web.candidate import templates  # the candidate pages' environment (its globals, filters)
from milo_voice.web.candidate_limits import client_host, wait_text
from milo_voice.web.erasure_wiring import data_export, eraser
from milo_voice.web.repos import repo
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.erasure import Busy, Initiator
from milo_voice.workspace.erasure_requests import VALID_HOURS, ErasureRequests, LinkState, confirmation_email
from milo_voice.workspace.privacy_limits import PrivacyLimits, Wait

log = logging.getLogger(__name__)

PATH = "/i/{token}/privacy"
CONFIRM = "/i/erase/{code}"
EXPORTS = ".exports"
"""Folder under MILO_UPLOADS_DIR where a download is built, then deleted."""
STALE_EXPORT_S = 600.0
CONTACT = (
    "Please contact the company that invited you (reply to their message) and ask them to erase your data."
)


def limits(request: Request) -> PrivacyLimits:
    state = request.app.state
    found: PrivacyLimits | None = getattr(state, "privacy_limits", None)
    if found is None:
        found = state.privacy_limits = PrivacyLimits(lambda: state.now().timestamp())
    return found


def mask(email: str) -> str:
    """z***@example.com: enough for the candidate to recognise, not enough to read off a screen."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else ""


def message(request: Request, title: str, text: str, script: Any = None, status: int = 200) -> Response:
    return templates.TemplateResponse(
        request,
        "candidate_message.html",
        {"title": title, "message": text, "script": script},
        status_code=status,
    )


def refused(request: Request, wait: Wait, script: Any, what: str) -> Response:
    log.warning(
        "privacy.limited", extra={"reason": wait.reason, "what": what, "retry_after_s": wait.retry_after}
    )
    text = (
        f"You have asked for this several times in a short while. Please wait {wait_text(wait.retry_after)}."
    )
    response = message(request, "Please try again later", text, script, 429)
    response.headers["Retry-After"] = str(wait.retry_after)
    return response


async def _linked(request: Request) -> tuple[Candidate, Any] | Response:
    candidate = await run_in_threadpool(repo(request, Candidates).by_token, request.path_params["token"])
    if candidate is None:
        return message(
            request,
            "Link not found",
            "This link is not valid. Please check the link you were sent.",
            status=404,
        )
    return candidate, await run_in_threadpool(repo(request, BrandedInterviews).script, candidate.interview_id)


async def privacy_page(request: Request) -> Response:
    found = await _linked(request)
    if isinstance(found, Response):
        return found
    candidate, script = found
    return templates.TemplateResponse(
        request,
        "candidate_privacy.html",
        {
            "script": script,
            "token": candidate.token,
            "email_hint": mask(candidate.email),
            "hours": VALID_HOURS,
        },
    )


def _sweep(root: Path) -> None:
    """Remove export folders a broken download left behind."""
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.is_dir() and time.time() - folder.stat().st_mtime > STALE_EXPORT_S:
            shutil.rmtree(folder, ignore_errors=True)


async def download(request: Request) -> Response:
    found = await _linked(request)
    if isinstance(found, Response):
        return found
    candidate, script = found
    cid = candidate.id or 0
    wait = limits(request).download(cid, client_host(request))
    if wait is not None:
        return refused(request, wait, script, "download")
    settings: Settings = request.app.state.settings
    root = Path(settings.uploads_dir) / EXPORTS
    await run_in_threadpool(_sweep, root)
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="export-", dir=root))
    target = folder / "my-data.zip"
    try:
        done = await run_in_threadpool(data_export(request).write, cid, target)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    log.info(
        "privacy.download",
        extra={"candidate_id": cid, "sessions": done.sessions, "files": done.files, "bytes": done.bytes},
    )
    await run_in_threadpool(
        lambda: repo(request, Audit).record(
            None,
            "data_download",
            "candidate",
            cid,
            via="candidate link",
            sessions=done.sessions,
            bytes=done.bytes,
        )
    )
    name = f"my-data-{request.app.state.now():%Y-%m-%d}.zip"
    return FileResponse(
        target,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


async def request_erasure(request: Request) -> Response:
    found = await _linked(request)
    if isinstance(found, Response):
        return found
    candidate, script = found
    cid = candidate.id or 0
    settings: Settings = request.app.state.settings
    if not candidate.email:
        log.warning("privacy.erasure_no_email", extra={"candidate_id": cid})
        return message(
            request,
            "We cannot confirm this by email",
            f"We have no email address for you, so we cannot send you a confirmation link. {CONTACT}",
            script,
        )
    channel = channels_from(settings).get(ChannelName.EMAIL)
    if channel is None:
        log.warning("privacy.erasure_no_channel", extra={"candidate_id": cid})
        return message(
            request,
            "We cannot send email right now",
            f"This system is not set up to send email, so we cannot send you a confirmation link. {CONTACT}",
            script,
            503,
        )
    wait = limits(request).erasure_email(cid, client_host(request))
    if wait is not None:
        return refused(request, wait, script, "erasure_email")
    return await _send_link(request, settings, candidate, script, channel)


async def _send_link(
    request: Request, settings: Settings, candidate: Candidate, script: Any, channel: Any
) -> Response:
    cid = candidate.id or 0
    requests = repo(request, ErasureRequests)
    request_id, code = await run_in_threadpool(requests.open, cid)
    email = confirmation_email(
        recipient=candidate.email,
        url=f"{settings.base_url}{CONFIRM.format(code=code)}",
        interview=getattr(script, "title", "") or "your interview",
    )
    try:
        await run_in_threadpool(channel.send, email)
    except EngineUnavailable as exc:
        await run_in_threadpool(requests.expire, request_id)
        log.warning(
            "privacy.erasure_email_failed",
            extra={"candidate_id": cid, "request_id": request_id, "error": str(exc)},
        )
        return message(
            request,
            "We could not send the email",
            f"The confirmation email could not be sent just now. Please try again in a few minutes. "
            f"If it keeps failing: {CONTACT}",
            script,
            503,
        )
    log.info("privacy.erasure_requested", extra={"candidate_id": cid, "request_id": request_id})
    return message(
        request,
        "Check your email",
        f"We sent a confirmation link to {mask(candidate.email)}. Open it within {VALID_HOURS} hours "
        "and press the button there to erase your data. Nothing is erased until you do.",
        script,
    )


def _link_answer(request: Request, state: LinkState) -> Response:
    if state is LinkState.EXPIRED:
        return message(
            request,
            "This link has expired",
            f"Confirmation links work for {VALID_HOURS} hours. Nothing was erased. To ask again, open "
            'your interview link and choose "Your data".',
            status=410,
        )
    if state is LinkState.DONE:
        return message(
            request,
            "Your data has been erased",
            "This link has been used: the data held about you has been erased.",
        )
    return message(
        request,
        "Link not found",
        "This confirmation link is not valid. Please check the link in the email.",
        status=404,
    )


async def confirm_page(request: Request) -> Response:
    found = await run_in_threadpool(repo(request, ErasureRequests).find, request.path_params["code"])
    if found.state is not LinkState.PENDING:
        return _link_answer(request, found.state)
    return templates.TemplateResponse(request, "candidate_erasure_confirm.html", {"action": request.url.path})


async def confirm(request: Request) -> Response:
    found = await run_in_threadpool(repo(request, ErasureRequests).find, request.path_params["code"])
    if found.state is not LinkState.PENDING or found.candidate_id is None:
        return _link_answer(request, found.state if found.state is not LinkState.PENDING else LinkState.DONE)
    cid, rid = found.candidate_id, found.request_id
    try:
        done = await run_in_threadpool(
            lambda: eraser(request).erase(
                cid, initiated_by=Initiator.CANDIDATE, reason=f"candidate request #{rid}", request_id=rid
            )
        )
    except Busy as exc:
        log.info("privacy.erasure_busy", extra={"candidate_id": cid, "request_id": rid})
        return message(
            request, "Your interview is still running", f"{exc}. Open this link again afterwards.", status=409
        )
    except NotFound:
        return _link_answer(request, LinkState.DONE)
    log.info(
        "privacy.erasure_confirmed",
        extra={"candidate_id": cid, "request_id": rid, "tombstone_id": done.tombstone_id},
    )
    return message(
        request,
        "Your data has been erased",
        f"Everything held about you has been erased: your recordings, transcripts, scores, answers, "
        f"messages and contact details. Reference for the company: erasure {done.tombstone_id}.",
    )


def routes() -> list[BaseRoute]:
    return [
        Route(PATH, privacy_page),
        Route(PATH + "/download", download, methods=["POST"]),
        Route(PATH + "/erase", request_erasure, methods=["POST"]),
        Route(CONFIRM, confirm_page),
        Route(CONFIRM, confirm, methods=["POST"]),
    ]
