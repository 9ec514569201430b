"""The candidate's voluntary self-identification for the bias audit (issue 20 item 4, docs/bias_audit.md).

The thank-you page (`candidate_thanks.html`, after the interview or the last stage) carries a short
form: sex and race/ethnicity in the EEO-1 categories, each defaulting to "Prefer not to say", under a
notice that answering is voluntary, used only in aggregate for a bias audit, never seen by whoever
(person or scorer) assesses the application, and without effect on it.

- `GET /i/{token}/self-identification`: the same form on its own page (with a thank-you after a save);
- `POST /i/{token}/self-identification`: `sex` and `race_ethnicity` (exactly one known value each)
  are stored through `workspace.self_identification` (its one writer), replacing earlier answers;
  `action=withdraw` deletes them. Anything else is a 400 that names the problem, shows the form
  again as sent and changes nothing stored.

Like the candidate's other forms, the secret token in the path is what authorises the post (no
session, so no CSRF cookie; `form-action 'self'` in the CSP). Nothing shows a stored answer back:
the form always starts at "Prefer not to say" and sending it again replaces what was given.
This module and the writer are the only web code that may import the self-identification
(tests/test_layering.py).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.store.repo import Invalid
from milo_voice.web.branding import BrandedInterviews
from milo_voice.web.repos import repo
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.self_identification import RACE_LABELS, SEX_LABELS, SelfIdentifications

PATH = "/i/{token}/self-identification"
DECLINED = "declined"
"""The default of both questions ("Prefer not to say": the audit counts it as unknown)."""
DONE = {
    "saved": "Thank you. Your answers are saved. To change them, send the form again.",
    "removed": "Your answers are removed. Nothing of them is kept.",
}
FIELDS = (("sex", "Sex", SEX_LABELS), ("race_ethnicity", "Race/ethnicity", RACE_LABELS))


def install(templates: Jinja2Templates) -> None:
    """Give the candidate templates the form's categories (the thank-you page includes the form)."""
    templates.env.globals["self_id"] = {"path": PATH, "sex": SEX_LABELS, "race": RACE_LABELS}


def read_choices(form: FormData) -> tuple[dict[str, str], list[str]]:
    """The answers posted (each a known value, else "declined" for the re-shown form) and what was wrong."""
    chosen: dict[str, str] = {}
    errors: list[str] = []
    for name, label, labels in FIELDS:
        values = [str(v) for v in form.getlist(name)]
        if len(values) == 1 and values[0] in labels:
            chosen[name] = values[0]
            continue
        chosen[name] = DECLINED
        if not values:
            errors.append(f'{label}: no answer was sent. Choose one ("Prefer not to say" is fine).')
        elif len(values) > 1:
            errors.append(f"{label}: choose one answer, not {len(values)}.")
        else:
            errors.append(f"{label}: {values[0][:40]!r} is not one of the choices. Choose one of the list.")
    return chosen, errors


def _page(
    templates: Jinja2Templates, request: Request, script: Any, status: int = 200, **context: Any
) -> Response:
    values = {"script": script, "chosen": {}, "errors": [], "done": "", **context}
    return templates.TemplateResponse(request, "candidate_self_id.html", values, status_code=status)


async def _candidate(request: Request, templates: Jinja2Templates) -> tuple[int, Any] | Response:
    candidate = await run_in_threadpool(repo(request, Candidates).by_token, request.path_params["token"])
    if candidate is None:
        return templates.TemplateResponse(
            request,
            "candidate_message.html",
            {
                "title": "Link not found",
                "message": "This link is not valid. Please check the link you were sent.",
            },
            status_code=404,
        )
    script = await run_in_threadpool(repo(request, BrandedInterviews).script, candidate.interview_id)
    return candidate.id or 0, script


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    """The form's page and its post, rendered with the candidate pages' `templates`."""

    async def show(request: Request) -> Response:
        found = await _candidate(request, templates)
        if isinstance(found, Response):
            return found
        done = DONE.get(request.query_params.get("done", ""), "")
        return _page(templates, request, found[1], done=done)

    async def submit(request: Request) -> Response:
        found = await _candidate(request, templates)
        if isinstance(found, Response):
            return found
        candidate_id, script = found
        form = await request.form(max_files=0, max_fields=10)
        writer, back = repo(request, SelfIdentifications), request.url.path
        if str(form.get("action", "")) == "withdraw":
            await run_in_threadpool(writer.withdraw, candidate_id)
            return RedirectResponse(f"{back}?done=removed", status_code=303)
        chosen, errors = read_choices(form)
        if not errors:
            try:
                await run_in_threadpool(lambda: writer.record(candidate_id, **chosen))
            except Invalid as exc:
                errors = [str(exc)]
        if errors:
            return _page(templates, request, script, 400, chosen=chosen, errors=errors)
        return RedirectResponse(f"{back}?done=saved", status_code=303)

    return [Route(PATH, show), Route(PATH, submit, methods=["POST"])]
