"""Interview pages: list, create and edit (versioned), publish, duplicate, templates, archive, share.

Only admins change interviews; viewers see them and their share codes (analytics: `analytics_pages`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.dialogue.script import AnswerShape
from milo_voice.scoring.rubric import QuestionRubric
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import Interview, InterviewStatus, UserRole
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace import editor, public_url, rubric_form, share
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.rubric_form import CriterionRow
from milo_voice.workspace.stage_settings import why_unpublishable

SHAPES = [s.value for s in AnswerShape]
KINDS = [("scored", "Scored 1-5"), ("pass_fail", "Pass / fail"), ("dealbreaker", "Dealbreaker")]
BLANK = InterviewForm(title="", questions=(QuestionForm(text=""),))
Previous = Mapping[int, QuestionRubric | None]
"""The stored rubrics of the version being edited, by question position (to number new versions)."""


@dataclass(frozen=True, slots=True)
class EditorQuestion:
    """One question as the editor shows it: its fields, its rubric rows (and blank ones), problems."""

    form: QuestionForm
    criteria: list[CriterionRow]
    errors: list[str]
    origin: str
    """Position of the stored question it was loaded from ("" for a new one): rubric versions follow it."""
    rubric_version: int | None


def _items(form: InterviewForm, *, stored: bool) -> list[EditorQuestion]:
    return [
        EditorQuestion(
            q,
            rubric_form.with_blanks(rubric_form.rows_of(q.rubric)),
            [],
            str(i) if stored else "",
            q.rubric.version if q.rubric else None,
        )
        for i, q in enumerate(form.questions or BLANK.questions)
    ]


def public_link(request: Request, slug: str) -> str:
    """The interview's public share link (served by the live channels: issue 3's `/s/{slug}`)."""
    return f"{workspace(request).settings.base_url}/s/{slug}"


async def _form(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {
        k: form.get(k)
        for k in (
            "title",
            "role",
            "greeting",
            "closing",
            "language",
            "voice",
            "thinking_silence",
            "max_silence",
            "retakes_allowed",
        )
    }
    upload = form.get("logo_file")
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read(editor.MAX_LOGO_BYTES + 1)
        if content:
            data["logo"] = editor.logo_data_url(upload.content_type or "", content)
    elif form.get("remove_logo") == "1":
        data["logo"] = ""
    return data


def _editor(
    request: Request,
    form: InterviewForm,
    items: list[EditorQuestion],
    *,
    slug: str = "",
    current: Interview | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "interview_edit.html",
        {
            "form": form,
            "questions": items,
            "shapes": SHAPES,
            "kinds": KINDS,
            "slug": slug,
            "error": error,
            "action": f"/app/interviews/{slug}/edit" if slug else "/app/interviews",
            "published": current is not None and current.status == InterviewStatus.PUBLISHED.value,
            "next_version": current.version + 1 if current else 1,
        },
        status,
    )


def _unsaved(
    raw: dict[str, Any], questions: list[dict[str, Any]], problems: dict[int, list[str]], previous: Previous
) -> tuple[InterviewForm, list[EditorQuestion]]:
    """What the recruiter typed, for re-showing a form that failed validation (nothing is lost),
    with each question's rubric problems beside it."""
    kept, items = [], []
    for i, q in enumerate(questions):
        shape = q["shape"] if q["shape"] in SHAPES else AnswerShape.EXPLANATION.value
        limit = q["max_follow_ups"]
        question = QuestionForm(
            q["text"],
            AnswerShape(shape),
            tuple(q["follow_ups"].splitlines()),
            int(limit) if limit.isdigit() else 1,
            bool(q["wants_example"]),
        )
        kept.append(question)
        origin = q["origin"]
        old = previous.get(int(origin)) if origin.isdigit() else None
        items.append(
            EditorQuestion(
                question,
                rubric_form.with_blanks(q["criteria"]),
                problems.get(i, []),
                origin,
                old.version if old else None,
            )
        )
    form = InterviewForm(
        title=str(raw.get("title") or ""),
        role=str(raw.get("role") or ""),
        greeting=str(raw.get("greeting") or ""),
        closing=str(raw.get("closing") or ""),
        language=str(raw.get("language") or ""),
        voice=str(raw.get("voice") or ""),
        questions=tuple(kept),
        logo=None,
    )
    return form, items


@page()
async def list_interviews(request: Request) -> Response:
    tab = request.query_params.get("tab", "active")
    ws = workspace(request)
    if tab == "archived":
        items = await run_in_threadpool(lambda: ws.interviews.summaries(archived=True))
    elif tab == "templates":
        items = await run_in_threadpool(lambda: ws.interviews.summaries(templates=True))
    else:
        tab = "active"
        items = await run_in_threadpool(lambda: ws.interviews.summaries(templates=False))
    return render(request, "interviews.html", {"items": items, "tab": tab})


@page(UserRole.ADMIN)
async def new_interview(request: Request) -> Response:
    return _editor(request, BLANK, _items(BLANK, stored=False))


@dataclass(frozen=True, slots=True)
class Submitted:
    """A posted editor form: parsed, or what to show again with the error."""

    parsed: InterviewForm | None
    unsaved: InterviewForm = BLANK
    items: list[EditorQuestion] = field(default_factory=list)
    error: str = ""


async def _submitted(request: Request, previous: Previous) -> Submitted:
    form = await request.form()
    questions = editor.form_questions(form)
    problems = rubric_form.read_rubrics(questions, previous)
    raw: dict[str, Any] = {}
    try:
        raw = await _form(form)
        parsed = editor.parse(raw, questions)
        if problems:
            raise Invalid("some rubrics need fixing: see the questions marked below")
        return Submitted(parsed)
    except Invalid as exc:
        if not raw:
            raw = {k: form.get(k) for k in ("title", "role", "greeting", "closing", "language", "voice")}
        unsaved, items = _unsaved(raw, questions, problems, previous)
        return Submitted(None, unsaved, items, str(exc))
    finally:
        await form.close()  # uploads are spooled to temporary files


@page(UserRole.ADMIN)
async def create_interview(request: Request) -> Response:
    ws = workspace(request)
    got = await _submitted(request, {})
    if got.parsed is None:
        return _editor(request, got.unsaved, got.items, error=got.error, status=400)
    parsed = got.parsed
    row = await run_in_threadpool(ws.interviews.create, parsed)
    await run_in_threadpool(ws.audit.record, who(request), "create", "interview", row.slug, version=1)
    return RedirectResponse(f"/app/interviews/{row.slug}", status_code=303)


@page(UserRole.ADMIN)
async def edit_interview(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    current = await run_in_threadpool(ws.interviews.latest, slug)
    stored = await run_in_threadpool(ws.interviews.form, current)
    if request.method == "GET":
        return _editor(request, stored, _items(stored, stored=True), slug=slug, current=current)
    previous = {i: q.rubric for i, q in enumerate(stored.questions)}
    got = await _submitted(request, previous)
    if got.parsed is None:
        return _editor(
            request, got.unsaved, got.items, slug=slug, current=current, error=got.error, status=400
        )
    row = await run_in_threadpool(ws.interviews.save, slug, got.parsed)
    await run_in_threadpool(ws.audit.record, who(request), "edit", "interview", slug, version=row.version)
    return RedirectResponse(f"/app/interviews/{slug}", status_code=303)


@page()
async def show_interview(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    versions = await run_in_threadpool(ws.interviews.versions, slug)
    current = versions[0]
    assert current.id is not None
    questions = await run_in_threadpool(ws.interviews.questions, current.id)
    published = current.status == InterviewStatus.PUBLISHED.value
    actions = [] if published or current.archived else [("publish", "Publish")]
    actions.append(("duplicate", "Duplicate"))
    actions.append(
        ("untemplate", "Stop using as template") if current.is_template else ("template", "Save as template")
    )
    actions.append(("unarchive", "Unarchive") if current.archived else ("archive", "Archive"))
    return render(
        request,
        "interview.html",
        {
            "interview": current,
            "versions": versions,
            "questions": questions,
            "published": published,
            "public_link": public_link(request, slug),
            "actions": actions,
        },
    )


@page(UserRole.ADMIN)
async def interview_action(request: Request) -> Response:
    ws, slug, action = workspace(request), request.path_params["slug"], request.path_params["action"]
    target = f"/app/interviews/{slug}"
    if action == "publish":
        latest = await run_in_threadpool(ws.interviews.latest, slug)
        stages = await run_in_threadpool(ws.interviews.stages, latest.id or 0)
        if why := why_unpublishable(ws.settings, stages):
            raise Invalid(f"cannot publish: {why}")
        await run_in_threadpool(ws.interviews.publish, slug)
    elif action == "duplicate":
        copy = await run_in_threadpool(ws.interviews.duplicate, slug)
        target = f"/app/interviews/{copy.slug}/edit"
        await run_in_threadpool(ws.audit.record, who(request), "create", "interview", copy.slug, source=slug)
    elif action in ("archive", "unarchive"):
        await run_in_threadpool(ws.interviews.set_archived, slug, action == "archive")
    elif action in ("template", "untemplate"):
        await run_in_threadpool(ws.interviews.set_template, slug, action == "template")
    else:
        raise NotFound(f"no interview action {action!r}")
    await run_in_threadpool(ws.audit.record, who(request), action, "interview", slug)
    return RedirectResponse(target, status_code=303)


async def _published_link(request: Request) -> tuple[Interview, str]:
    ws, slug = workspace(request), request.path_params["slug"]
    current = await run_in_threadpool(ws.interviews.latest, slug)
    return current, public_link(request, slug)


@page()
async def qr(request: Request) -> Response:
    _, link = await _published_link(request)
    if request.path_params["kind"] == "png":
        return Response(share.qr_png(link), media_type="image/png")
    return Response(share.qr_svg(link), media_type="image/svg+xml")


@page()
async def poster(request: Request) -> Response:
    """The printable poster; refused (409) while candidates could not open the link it would print."""
    current, link = await _published_link(request)
    warning = public_url.warning(workspace(request).settings)
    if warning:
        context = {
            "heading": "Set MILO_PUBLIC_URL before printing a poster",
            "message": f"A poster printed now would carry a QR code nobody can open. {warning}",
            "back_url": f"/app/interviews/{current.slug}",
            "back_label": f"Back to {current.title}",
        }
        return render(request, "message.html", context, 409)
    pdf = await run_in_threadpool(
        lambda: share.poster_pdf(url=link, title=current.title, role=current.role, logo=current.logo)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{current.slug}-poster.pdf"'},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/interviews", list_interviews),
        Route("/interviews", create_interview, methods=["POST"]),
        Route("/interviews/new", new_interview),
        Route("/interviews/{slug}", show_interview),
        Route("/interviews/{slug}/edit", edit_interview, methods=["GET", "POST"]),
        Route("/interviews/{slug}/qr.{kind:str}", qr),
        Route("/interviews/{slug}/poster.pdf", poster),
        Route("/interviews/{slug}/{action}", interview_action, methods=["POST"]),
    ]
