"""Recruiter pages of stages (issue 18): the pipeline panel on a profile (each stage's result, its
reason and quoted evidence, the form's answers) with the override, and the interview's stage editor.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.stages.types import STAGE_TITLES, StageSpec
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Interview, InterviewStatus, UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace import interview_stages
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.stage_settings import why_unpublishable


async def stages_context(request: Request, candidate_id: int) -> dict[str, object]:
    """What the profile's pipeline panel shows (nothing for an interview without stages)."""
    views = await run_in_threadpool(repo(request, Pipeline).views, candidate_id)
    return {"stage_views": views if len(views) > 1 else []}


@page()
async def override(request: Request) -> Response:
    cid, position = int(request.path_params["cid"]), int(request.path_params["position"])
    form = await request.form()
    advance = str(form.get("decision", "")) == "advance"
    await run_in_threadpool(lambda: repo(request, Pipeline).override(
        who(request), cid, position, advance=advance, reason=str(form.get("reason", ""))))
    return RedirectResponse(f"/app/candidates/{cid}#stages", status_code=303)


@page(UserRole.ADMIN)
async def edit_stages(request: Request) -> Response:
    """GET: the stages of the newest version as JSON, with an example. POST: save them (a published
    interview gets a new version; candidates keep the one they started)."""
    ws, slug = workspace(request), request.path_params["slug"]
    interview = await run_in_threadpool(ws.interviews.latest, slug)
    text, error = "", ""
    if request.method == "POST":
        text = str((await request.form()).get("stages", ""))
        try:
            stages = interview_stages.parse_json(text)
            saved = await _save(request, interview, stages)
        except Invalid as exc:
            error = str(exc)
        else:
            return RedirectResponse(f"/app/interviews/{slug}/stages?saved={saved.version}", status_code=303)
    stages = await run_in_threadpool(ws.interviews.stages, interview.id or 0)
    text = text or interview_stages.to_json(stages)
    return render(request, "stages_edit.html", {
        "interview": interview, "text": text, "error": error, "example": EXAMPLE,
        "saved": request.query_params.get("saved", ""), "stages": stages or interview_stages.VOICE_ONLY,
        "kinds": STAGE_TITLES, "warning": why_unpublishable(ws.settings, stages),
    }, status=400 if error else 200)


async def _save(request: Request, interview: Interview, stages: tuple[StageSpec, ...]) -> Interview:
    """Store the stages (a published interview: a new version, which must be runnable here)."""
    ws = workspace(request)
    why = why_unpublishable(ws.settings, stages)
    if why and interview.status == InterviewStatus.PUBLISHED.value:
        raise Invalid(why)
    saved = await run_in_threadpool(ws.interviews.set_stages, interview.slug, stages)
    await run_in_threadpool(ws.audit.record, who(request), "stages.save", "interview", interview.slug,
                            version=saved.version, stages=len(stages))
    return saved


@page(UserRole.ADMIN)
async def stage_action(request: Request) -> Response:
    """The editor's buttons: move a stage up or down, remove it, add a stage of a type."""
    ws, slug = workspace(request), request.path_params["slug"]
    form = await request.form()
    interview = await run_in_threadpool(ws.interviews.latest, slug)
    current = await run_in_threadpool(ws.interviews.stages, interview.id or 0)
    position = str(form.get("position", "0"))
    stages = interview_stages.edited(current, str(form.get("action", "")),
                                     int(position) if position.isdigit() else -1, str(form.get("kind", "")))
    saved = await _save(request, interview, stages)
    return RedirectResponse(f"/app/interviews/{slug}/stages?saved={saved.version}", status_code=303)


EXAMPLE = """[
  {"kind": "resume", "pass_score": 50,
   "resume": {"requirements": "Two years of customer service.",
              "rubric": {"criteria": [{"id": "service", "name": "Customer service experience",
                "anchors": {"1": "no customer-facing work",
                            "5": "customer service, retail or hospitality"}}]}}},
  {"kind": "form", "form": {"fields": [
    {"id": "authorised", "kind": "yes_no", "label": "Are you authorised to work in the UK?",
     "knockout": {"accept": ["Yes"], "reason": "Not authorised to work in the UK"}},
    {"id": "shifts", "kind": "multi_choice", "label": "Which shifts can you work?",
     "options": ["Mornings", "Evenings", "Weekends"]},
    {"id": "years", "kind": "number", "label": "Years of experience", "minimum": 0, "maximum": 60}]}},
  {"kind": "voice"}
]"""


def routes() -> list[BaseRoute]:
    return [
        Route("/candidates/{cid:int}/stages/{position:int}/override", override, methods=["POST"]),
        Route("/interviews/{slug}/stages", edit_stages, methods=["GET", "POST"]),
        Route("/interviews/{slug}/stages/action", stage_action, methods=["POST"]),
    ]
