"""The candidate's side of stages (issue 18): their link opens the stage they are at.

`/i/{token}` shows a form stage's questions, a notice while a resume is screened or answers wait for
the hiring team, the stage's knock-out message, or the voice interview (the page of `candidate.py`).
`POST /i/{token}/form` receives a form (multipart, capped while it arrives; files to disk), keeps
what was typed when an answer is invalid, and otherwise judges it and moves the candidate on.
Until the candidate has agreed to the current notice, a form and the resume upload carry it with a
required box, and an assessment opens on a consent step (`notice.py`): nothing is kept before that.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from milo_voice.intake.resumes import Resumes
from milo_voice.settings import Settings
from milo_voice.stages.form import UploadedFile, judge_form, parse_answers, visible_fields
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Candidate, CandidateStatus, StageKind
from milo_voice.web import notice as notices
from milo_voice.web.assessment_candidate import assessment_page, session_of
from milo_voice.web.repos import repo
from milo_voice.web.resume_candidate import upload_page
from milo_voice.web.workspace.uploads import UploadTooLarge, capped_stream
from milo_voice.web.written_candidate import told_minutes, written_page
from milo_voice.workspace.consent import Notice
from milo_voice.workspace.pipeline import Pipeline, Place
from milo_voice.workspace.stage_settings import judged

MAX_FORM_BYTES = 12 * 1024 * 1024
"""A form post with its files (a CV, a certificate): refused past this while it arrives."""
WAITING = {
    StageKind.RESUME: ("Thank you for applying", "We have your application and are reviewing it now. "
                       "We will be in touch about the next step."),
    StageKind.FORM: ("Thank you", "Your answers are with the hiring team. They will be in touch about "
                     "the next step."),
}
SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _message(templates: Jinja2Templates, request: Request, script: Any, title: str, message: str,
             status: int = 200, progress: Progress | None = None) -> Response:
    context = {"title": title, "message": message, "script": script, "progress": progress}
    return templates.TemplateResponse(request, "candidate_message.html", context, status_code=status)


@dataclass(frozen=True, slots=True)
class Progress:
    """"Step 2 of 3 · Form" on every candidate page of a pipeline."""

    step: int
    steps: int
    name: str


def progress_of(place: Place) -> Progress | None:
    return Progress(place.step, len(place.stages), place.stage.name) if len(place.stages) > 1 else None


async def stage_page(
    request: Request, templates: Jinja2Templates, candidate: Candidate, script: Any,
) -> tuple[Response | None, Progress | None]:
    """The page of the candidate's current stage (None for the voice interview's own page), and the
    progress line every page of a pipeline shows."""
    place = await run_in_threadpool(repo(request, Pipeline).place, candidate.id or 0)
    progress = progress_of(place)
    if progress is None:
        return None, None
    return await _page(request, templates, place, script, progress), progress


async def _page(
    request: Request, templates: Jinja2Templates, place: Place, script: Any, progress: Progress,
) -> Response | None:
    status, spec = CandidateStatus(place.candidate.status), place.stage
    if status is CandidateStatus.KNOCKED_OUT:
        text = spec.knockout_message or "Thank you for your time. The hiring team has your application."
        return _message(templates, request, script, "Thank you for your interest", text)
    if status in (CandidateStatus.COMPLETED, CandidateStatus.SHORTLISTED, CandidateStatus.DISMISSED):
        return templates.TemplateResponse(request, "candidate_thanks.html",
                                          {"script": script, "already": True, "progress": progress})
    if spec.kind is StageKind.VOICE:  # a candidate granted the written path answers it as a form
        return await written_page(request, templates, place, script)
    waiting = spec.kind is StageKind.RESUME and status is not CandidateStatus.EVALUATING
    if waiting and await run_in_threadpool(repo(request, Resumes).get, place.candidate.id or 0) is None:
        notice = await notices.needed(request, place.candidate.id or 0)
        return upload_page(request, templates, place, script, progress, notice=notice)
    if spec.kind is StageKind.RESUME or status is CandidateStatus.EVALUATING:
        title, text = WAITING.get(spec.kind, WAITING[StageKind.FORM])
        return _message(templates, request, script, title, text, progress=progress)
    if spec.kind is StageKind.FORM:
        row = await run_in_threadpool(repo(request, Pipeline).start_stage, place.candidate.id or 0)
        notice = await notices.needed(request, place.candidate.id or 0)
        return _form(request, templates, place, script, dict(row.answers), {}, notice)
    if spec.kind is StageKind.ASSESSMENT:
        notice = await notices.needed(request, place.candidate.id or 0)
        if notice is not None:  # the consent step first: the session starts once they agreed
            return notices.gate_page(request, templates, place.candidate.token, script, progress, notice)
        session = await session_of(request, place)
        minutes = await told_minutes(request, place, spec.assessment.minutes if spec.assessment else 0)
        return assessment_page(request, templates, place, script, session, progress, minutes)
    return _message(templates, request, script, "Not available yet",
                    "This step is not available yet. The hiring team will be in touch.", progress=progress)


def _form(request: Request, templates: Jinja2Templates, place: Place, script: Any, answers: dict[str, Any],
          errors: dict[str, str], notice: Notice | None = None, notice_error: str = "",
          status: int | None = None) -> Response:
    """The form; with `notice` (not agreed to yet), the notice and its box before the questions."""
    spec = place.stage
    assert spec.form is not None
    return templates.TemplateResponse(request, "candidate_form.html", {
        "script": script, "candidate": place.candidate, "stage_name": spec.name, "step": place.step,
        "steps": len(place.stages), "intro": spec.form.intro, "fields": visible_fields(spec.form, answers),
        "all_fields": spec.form.fields, "answers": answers,
        "errors": errors, "csrf": "", "notice": notice, "notice_error": notice_error,
        "action": f"/i/{place.candidate.token}/form", "progress": None,
    }, status_code=status or (400 if errors else 200))


async def submit_form(request: Request, templates: Jinja2Templates, candidate: Candidate,
                      script: Any) -> Response:
    pipeline = repo(request, Pipeline)
    place = await run_in_threadpool(pipeline.place, candidate.id or 0)
    spec = place.stage
    token = candidate.token
    if spec.kind is not StageKind.FORM or spec.form is None or candidate.status not in (
            CandidateStatus.NEW.value, CandidateStatus.INVITED.value, CandidateStatus.IN_PROGRESS.value):
        return RedirectResponse(f"/i/{token}", status_code=303)  # answered already, or moved on
    settings: Settings = request.app.state.settings
    folder = Path(settings.uploads_dir) / "stage_files" / str(candidate.id) / str(place.position)
    try:
        fields, files = await _receive(request, folder)
    except Invalid as exc:
        return _message(templates, request, script, "Your answers could not be sent", str(exc), 400)
    parsed = parse_answers(spec.form, fields, files)
    agreement = await notices.form_agreement(request, candidate.id or 0, fields)
    if agreement is not notices.Agreement.AGREED:  # nothing is kept: what was typed is shown again
        await run_in_threadpool(_discard, files)
        message, status = notices.refusal(agreement)
        notice = await notices.current_notice(request)
        return _form(request, templates, place, script, parsed.answers, parsed.errors, notice, message,
                     status)
    await run_in_threadpool(pipeline.save_answers, candidate.id or 0, parsed.answers)
    if parsed.errors:
        return _form(request, templates, place, script, parsed.answers, parsed.errors)
    answers = parsed.answers
    outcome = await judged(settings, lambda scorer: judge_form(spec, answers, scorer=scorer))
    await run_in_threadpool(pipeline.record, candidate.id or 0, place.position, outcome)
    return RedirectResponse(f"/i/{token}", status_code=303)


TOO_LARGE = f"the form is too large: files up to {MAX_FORM_BYTES // (1024 * 1024)} MB in all"


async def _receive(request: Request, folder: Path) -> tuple[dict[str, list[str]], dict[str, UploadedFile]]:
    """The posted fields (every value, in order) and files (saved under `folder`)."""
    kind = request.headers.get("content-type", "").lower()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise Invalid(TOO_LARGE)
    if not kind.startswith("multipart/form-data"):
        form = await request.form(max_files=0, max_fields=200)
        return _fields(form.multi_items()), {}
    parser = MultiPartParser(request.headers, capped_stream(request, MAX_FORM_BYTES), max_files=10,
                             max_fields=200)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise Invalid(f"the form could not be read: {exc}") from None
    except UploadTooLarge:
        raise Invalid(TOO_LARGE) from None
    try:
        posted = [(k, v) for k, v in form.multi_items() if isinstance(v, UploadFile) and v.filename]
        files = await run_in_threadpool(_save, posted, folder)
        return _fields(form.multi_items()), files
    finally:
        await form.close()


def _save(posted: list[tuple[str, UploadFile]], folder: Path) -> dict[str, UploadedFile]:
    files: dict[str, UploadedFile] = {}
    folder = folder.resolve()  # stored absolute: the server's working directory may change
    for key, value in posted:
        name = SAFE.sub("_", Path(value.filename or "").name)[-100:] or "file"
        target = folder / f"{SAFE.sub('_', key)[:40]}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            shutil.copyfileobj(value.file, out, 1024 * 1024)
        files[key] = UploadedFile(name=(value.filename or "")[:200], size=target.stat().st_size,
                                  path=str(target), content_type=value.content_type or "")
    return files


def _discard(files: dict[str, UploadedFile]) -> None:
    for file in files.values():
        Path(file.path).unlink(missing_ok=True)


def _fields(items: list[tuple[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in items:
        if isinstance(value, str):
            found.setdefault(key, []).append(value)
    return found
