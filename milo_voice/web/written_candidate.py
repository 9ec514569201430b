"""The candidate's side of an accommodation's effects (docs/compliance.md, Accommodations):

- the written path: a candidate a person granted it to (`workspace/accommodations.py`) who reaches the
  voice stage of an interview that has a text stage sees its questions as a form on `/i/{token}`
  (`workspace/written_interview.py`); `POST /i/{token}/written` checks the answers like any form (what
  was typed is kept and shown again with the errors), judges them as a form is judged, and records the
  outcome on the voice stage; until the candidate has agreed to the current notice, the form carries it
  with its box, as a form stage does (`notice.py`);
- extra time on an LLM assessment: the minutes the page tells the candidate are multiplied too.

As on the other candidate forms, the secret token in the path is what authorises the post.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.settings import Settings
from milo_voice.stages.form import parse_answers, visible_fields
from milo_voice.stages.types import StageSpec
from milo_voice.store.tables import CandidateStatus, StageKind
from milo_voice.web import notice as notices
from milo_voice.web.branding import BrandedInterviews
from milo_voice.web.repos import repo
from milo_voice.workspace.accommodations import Accommodations
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import Notice
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline, Place
from milo_voice.workspace.stage_settings import judged
from milo_voice.workspace.written_interview import judge_written, written_for

OPEN = (CandidateStatus.NEW.value, CandidateStatus.INVITED.value, CandidateStatus.IN_PROGRESS.value)
WAITING = ("Thank you", "Your answers are with the hiring team. They will be in touch about the next step.")


async def told_minutes(request: Request, place: Place, minutes: int) -> int:
    """The minutes an assessment page tells this candidate: `minutes` times their extra time."""
    multiplier = await run_in_threadpool(repo(request, Accommodations).multiplier, place.candidate.id or 0)
    return math.ceil(minutes * multiplier)


async def written_page(
    request: Request, templates: Jinja2Templates, place: Place, script: Any
) -> Response | None:
    """The voice stage as a form for a candidate granted the written path; None for everyone else."""
    cid = place.candidate.id or 0
    if place.stage.kind is not StageKind.VOICE or not await run_in_threadpool(
        repo(request, Accommodations).written, cid
    ):
        return None
    if place.candidate.status == CandidateStatus.EVALUATING.value:
        return _message(templates, request, script, *WAITING)
    if place.candidate.status not in OPEN:
        return None
    row = await run_in_threadpool(repo(request, Pipeline).start_stage, cid)
    spec = await run_in_threadpool(
        written_for, repo(request, Interviews), place.candidate.interview_id, place.stage
    )
    notice = await notices.needed(request, cid)  # as on a form: agreed to with the first submit
    return _form(request, templates, place, spec, script, dict(row.answers), {}, notice)


def _message(
    templates: Jinja2Templates, request: Request, script: Any, title: str, text: str, status: int = 200
) -> Response:
    context = {"title": title, "message": text, "script": script}
    return templates.TemplateResponse(request, "candidate_message.html", context, status_code=status)


def _form(
    request: Request,
    templates: Jinja2Templates,
    place: Place,
    spec: StageSpec,
    script: Any,
    answers: dict[str, Any],
    errors: dict[str, str],
    notice: Notice | None = None,
    notice_error: str = "",
    status: int | None = None,
) -> Response:
    assert spec.form is not None
    return templates.TemplateResponse(
        request,
        "candidate_form.html",
        {
            "script": script,
            "candidate": place.candidate,
            "stage_name": spec.name,
            "step": place.step,
            "steps": len(place.stages),
            "intro": spec.form.intro,
            "fields": visible_fields(spec.form, answers),
            "all_fields": spec.form.fields,
            "answers": answers,
            "errors": errors,
            "csrf": "",
            "notice": notice,
            "notice_error": notice_error,
            "action": f"/i/{place.candidate.token}/written",
            "progress": None,
        },
        status_code=status or (400 if errors else 200),
    )


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def submit(request: Request) -> Response:
        token = request.path_params["token"]
        candidate = await run_in_threadpool(repo(request, Candidates).by_token, token)
        if candidate is None:
            return _message(
                templates,
                request,
                None,
                "Link not found",
                "This link is not valid. Please check the link you were sent.",
                404,
            )
        cid = candidate.id or 0
        pipeline = repo(request, Pipeline)
        place = await run_in_threadpool(pipeline.place, cid)
        written = await run_in_threadpool(repo(request, Accommodations).written, cid)
        if place.stage.kind is not StageKind.VOICE or candidate.status not in OPEN or not written:
            return RedirectResponse(f"/i/{token}", status_code=303)  # answered, moved on, or not granted
        script = await run_in_threadpool(repo(request, BrandedInterviews).script, candidate.interview_id)
        spec = await run_in_threadpool(
            written_for, repo(request, Interviews), candidate.interview_id, place.stage
        )
        assert spec.form is not None
        form = await request.form(max_files=0, max_fields=200)
        fields: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(key, []).append(value)
        parsed = parse_answers(spec.form, fields, {})
        agreement = await notices.form_agreement(request, cid, fields)
        if agreement is not notices.Agreement.AGREED:  # nothing is kept: what was typed is shown again
            message, code = notices.refusal(agreement)
            notice = await notices.current_notice(request)
            return _form(
                request, templates, place, spec, script, parsed.answers, parsed.errors, notice, message, code
            )
        await run_in_threadpool(pipeline.save_answers, cid, parsed.answers)
        if parsed.errors:
            return _form(request, templates, place, spec, script, parsed.answers, parsed.errors)
        settings: Settings = request.app.state.settings
        answers = parsed.answers
        outcome = await judged(settings, lambda scorer: judge_written(spec, answers, scorer=scorer))
        await run_in_threadpool(pipeline.record, cid, place.position, outcome)
        return RedirectResponse(f"/i/{token}", status_code=303)

    return [Route("/i/{token}/written", submit, methods=["POST"])]
