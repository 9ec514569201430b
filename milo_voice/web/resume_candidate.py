"""A candidate at a resume screen without a resume (they applied from a share link or a poster, or were
added by hand) uploads it here (issue 18): `POST /i/{token}/resume`, PDF or DOCX up to 10 MB, refused
while arriving past that. The text is read as bulk intake reads it, the file kept with the candidate,
and the screen runs at once; the link then shows what comes next. Until the candidate has agreed to the
current notice, the upload carries it with a required box (`notice.py`); without it the file is deleted."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from milo_voice.intake.document_text import UnreadableDocument
from milo_voice.intake.extract import extract_resume
from milo_voice.intake.resumes import Resumes
from milo_voice.intake.upload_kind import UnsupportedUpload, sniff_file
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Candidate, StageKind
from milo_voice.web import notice as notices
from milo_voice.web.repos import repo
from milo_voice.web.workspace.uploads import UploadTooLarge, receive_files
from milo_voice.workspace.consent import Notice
from milo_voice.workspace.pipeline import OPEN, Pipeline, Place
from milo_voice.workspace.resume_stage import ResumeScreen

log = logging.getLogger(__name__)
MAX_RESUME_BYTES = 10 * 1024 * 1024
FOLDER = "candidate_resumes"


def upload_page(request: Request, templates: Jinja2Templates, place: Place, script: Any, progress: object,
                error: str = "", *, notice: Notice | None = None, notice_error: str = "",
                status: int | None = None) -> Response:
    """`notice`: the notice the candidate has not agreed to yet (shown with its box)."""
    return templates.TemplateResponse(request, "candidate_resume.html", {
        "script": script, "candidate": place.candidate, "progress": progress, "error": error,
        "action": f"/i/{place.candidate.token}/resume", "notice": notice, "notice_error": notice_error,
    }, status_code=status or (400 if error or notice_error else 200))


async def submit_resume(request: Request, templates: Jinja2Templates, candidate: Candidate, script: Any,
                        progress: object) -> Response:
    settings: Settings = request.app.state.settings
    place = await run_in_threadpool(repo(request, Pipeline).place, candidate.id or 0)
    has = await run_in_threadpool(repo(request, Resumes).get, candidate.id or 0)
    if place.stage.kind is not StageKind.RESUME or candidate.status not in OPEN or has is not None:
        return RedirectResponse(f"/i/{candidate.token}", status_code=303)
    root = Path(settings.uploads_dir)
    incoming = root / FOLDER / str(candidate.id) / "incoming"
    notice = await notices.needed(request, candidate.id or 0)
    try:
        received = await receive_files(request, limit=MAX_RESUME_BYTES, field="resume",
                                       place=lambda _i, _name: incoming)
        agreement = await notices.form_agreement(request, candidate.id or 0, received.fields)
        if agreement is not notices.Agreement.AGREED:  # nothing is kept without it
            incoming.unlink(missing_ok=True)
            message, status = notices.refusal(agreement)
            return upload_page(request, templates, place, script, progress, notice_error=message,
                               notice=await notices.current_notice(request), status=status)
        if not received.names:
            raise Invalid("Please choose your resume file (PDF or Word).")
        stored = await run_in_threadpool(_store, repo(request, Resumes), root, candidate, incoming,
                                         received.names[0], settings.default_region)
    except UploadTooLarge:
        too_large = "That file is too large: at most 10 MB."
        return upload_page(request, templates, place, script, progress, too_large, notice=notice)
    except (Invalid, UnsupportedUpload, UnreadableDocument) as exc:
        error = f"We could not use that file: {exc}"
        notice = await notices.needed(request, candidate.id or 0)  # none if they agreed just now
        return upload_page(request, templates, place, script, progress, error, notice=notice)
    log.info("stages.resume.uploaded", extra={"candidate_id": candidate.id, "chars": stored})
    screen = ResumeScreen(repo(request, Pipeline), repo(request, Resumes), settings)
    await screen.screen(candidate.id or 0)
    return RedirectResponse(f"/i/{candidate.token}", status_code=303)


def _store(resumes: Resumes, root: Path, candidate: Candidate, incoming: Path, name: str, region: str) -> int:
    """Check, read and keep the uploaded resume; returns how many characters of text it has."""
    try:
        kind = sniff_file(incoming, name)
        if kind not in ("pdf", "docx"):
            raise Invalid("please upload a PDF or a Word (DOCX) file")
        data = incoming.read_bytes()
        found = extract_resume(data, name, default_region=region)
        relative = Path(FOLDER) / str(candidate.id) / f"resume.{kind}"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(incoming, root / relative)
    finally:
        incoming.unlink(missing_ok=True)
    resumes.attach(candidate.id or 0, filename=Path(name).name, path=relative.as_posix(), size=len(data),
                   text=found.text)
    return len(found.text)
