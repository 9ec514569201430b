"""The candidate's LLM assessment (issue 18): the task and materials beside a chat with the assistant,
and the box for the deliverable. JSON endpoints under /i/{token}/assessment:

- `POST chat` {"text"}: the message is stored first, then the assistant is asked; its reply, or a
  clear notice when it is down or slow (the message stays; sending again retries), comes back;
- `POST draft` {"text"}: the deliverable as it is being written (every change kept, with its time);
- `POST submit` {"text"}: the deliverable, judged (deliverable and guidance rubrics, quotes checked
  against the chat), and the candidate moved on; the page then shows the next step.
Everything is stored on the candidate's stage row, so closing the page loses nothing: reopening the
link resumes the session. The page opens on the notice until the candidate has agreed to it (`notice.py`);
the endpoints answer 409 to a candidate who never agreed to a notice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.errors import EngineUnavailable
from milo_voice.stages import assessment
from milo_voice.stages.assessment import Refused, Session
from milo_voice.store.tables import CandidateStatus, StageKind
from milo_voice.web.repos import repo
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import Consents
from milo_voice.workspace.pipeline import Pipeline, Place
from milo_voice.workspace.stage_settings import assistant, judged

log = logging.getLogger(__name__)
DOWN = ("The assistant is not answering right now. Your message is saved: send it again in a moment, "
        "or carry on writing your answer.")
OPEN = (CandidateStatus.NEW.value, CandidateStatus.INVITED.value, CandidateStatus.IN_PROGRESS.value)


def assessment_page(request: Request, templates: Jinja2Templates, place: Place, script: Any,
                    session: Session, progress: object, minutes: int | None = None) -> Response:
    """`minutes`: the time this candidate is told (the stage's, or more with an accommodation)."""
    spec = place.stage.assessment
    assert spec is not None
    token = place.candidate.token
    return templates.TemplateResponse(request, "candidate_assessment.html", {
        "script": script, "candidate": place.candidate, "progress": progress, "spec": spec,
        "minutes": minutes or spec.minutes, "session": session, "turns": [t for t in session.turns],
        "urls": {"chat": f"/i/{token}/assessment/chat", "draft": f"/i/{token}/assessment/draft",
                 "submit": f"/i/{token}/assessment/submit", "next": f"/i/{token}"},
    })


async def session_of(request: Request, place: Place) -> Session:
    """The stored session (started now, in progress, when the candidate first opens the stage)."""
    row = await run_in_threadpool(repo(request, Pipeline).start_stage, place.candidate.id or 0)
    session = Session.from_json(dict(row.answers), request.app.state.now())
    if not row.answers:
        await run_in_threadpool(repo(request, Pipeline).save_answers, place.candidate.id or 0,
                                session.to_json())
    return session


async def _context(request: Request) -> tuple[Place, Session] | Response:
    candidate = await run_in_threadpool(repo(request, Candidates).by_token, request.path_params["token"])
    if candidate is None:
        return JSONResponse({"error": "This link is not valid."}, status_code=404)
    place = await run_in_threadpool(repo(request, Pipeline).place, candidate.id or 0)
    if place.stage.kind is not StageKind.ASSESSMENT or candidate.status not in OPEN:
        closed = {"error": "This step is closed.", "next": f"/i/{candidate.token}"}
        return JSONResponse(closed, status_code=409)
    if not await run_in_threadpool(repo(request, Consents).has_agreed, candidate.id or 0):
        first = {"error": "Please read the notice and agree to it first.", "next": f"/i/{candidate.token}"}
        return JSONResponse(first, status_code=409)
    return place, await session_of(request, place)


async def _text(request: Request) -> str:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise Refused("send JSON like {\"text\": \"...\"}")
    return str(body["text"])


async def chat(request: Request) -> Response:
    found = await _context(request)
    if isinstance(found, Response):
        return found
    place, session = found
    pipeline, now = repo(request, Pipeline), request.app.state.now
    try:
        session = assessment.ask(session, await _text(request), now())
    except Refused as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    await run_in_threadpool(pipeline.save_answers, place.candidate.id or 0, session.to_json())
    helper = assistant(request.app.state.settings)
    spec = place.stage.assessment
    assert spec is not None
    try:
        if helper is None:
            raise EngineUnavailable("no assistant configured")
        try:
            budget = request.app.state.settings.assessment_timeout
            messages = assessment.messages_for_assistant(spec, session)
            reply = await asyncio.wait_for(helper.reply(messages), budget)
        finally:
            await helper.aclose()
    except (TimeoutError, EngineUnavailable) as exc:
        log.warning("stages.assistant.down", extra={"candidate_id": place.candidate.id, "error": str(exc)})
        session = assessment.noticed(session, DOWN, now())
        await run_in_threadpool(pipeline.save_answers, place.candidate.id or 0, session.to_json())
        return JSONResponse({"error": DOWN, "turns": _turns(session, 2)}, status_code=503)
    session = assessment.answered(session, reply, now())
    await run_in_threadpool(pipeline.save_answers, place.candidate.id or 0, session.to_json())
    return JSONResponse({"turns": _turns(session, 2)})


def _turns(session: Session, last: int) -> list[dict[str, str]]:
    return [{"role": t.role, "text": t.text} for t in session.turns[-last:]]


async def save_draft(request: Request) -> Response:
    found = await _context(request)
    if isinstance(found, Response):
        return found
    place, session = found
    try:
        session = assessment.draft(session, await _text(request), request.app.state.now())
    except Refused as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    await run_in_threadpool(repo(request, Pipeline).save_answers, place.candidate.id or 0, session.to_json())
    return Response(status_code=204)


async def submit(request: Request) -> Response:
    found = await _context(request)
    if isinstance(found, Response):
        return found
    place, session = found
    pipeline = repo(request, Pipeline)
    try:
        session = assessment.submit(session, await _text(request), request.app.state.now())
    except Refused as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    await run_in_threadpool(pipeline.save_answers, place.candidate.id or 0, session.to_json())
    spec, settings = place.stage, request.app.state.settings
    outcome = await judged(settings, lambda scorer: assessment.judge_assessment(spec, session, scorer=scorer))
    await run_in_threadpool(pipeline.record, place.candidate.id or 0, place.position, outcome)
    return JSONResponse({"next": f"/i/{place.candidate.token}"})


def routes() -> list[BaseRoute]:
    return [
        Route("/i/{token}/assessment/chat", chat, methods=["POST"]),
        Route("/i/{token}/assessment/draft", save_draft, methods=["POST"]),
        Route("/i/{token}/assessment/submit", submit, methods=["POST"]),
    ]
