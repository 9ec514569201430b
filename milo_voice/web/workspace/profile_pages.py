"""The candidate profile: recording with the transcript in sync, answers per question, timing
diagnostics, scores when the scoring area has stored them, notes, ratings and decisions.

Viewing a profile is itself audited. The recording is served with HTTP Range support, from the disk or
the object store (`web.recording_stream`), which browsers need to seek without downloading all of it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.intake.resumes import Resumes
from milo_voice.outreach.contacts import Contacts
from milo_voice.store.recordings import in_store
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.web.recording_stream import recording_stream
from milo_voice.web.repos import repo
from milo_voice.web.workspace.accommodation_pages import accommodation_context
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.escalation_pages import profile_context
from milo_voice.web.workspace.message_pages import messages_context
from milo_voice.web.workspace.notice_pages import consent_context
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.scores import scores_for
from milo_voice.web.workspace.services import workspace
from milo_voice.web.workspace.stage_pages import stages_context
from milo_voice.workspace import attempts
from milo_voice.workspace.diagnostics import diagnose
from milo_voice.workspace.review import lines_of, sections


def _has_file(path: str | None) -> bool:
    """A recording on this disk, or uploaded to the object store (docs/storage.md)."""
    return in_store(path) or (bool(path) and Path(str(path)).is_file())


@page()
async def profile(request: Request) -> Response:
    ws, me = workspace(request), who(request)
    cid = int(request.path_params["cid"])
    candidate, interview = await run_in_threadpool(ws.candidates.get, cid)
    sessions = await run_in_threadpool(ws.review.sessions, cid)
    wanted = request.query_params.get("session", "")
    counts = attempts.counted(sessions, candidate.counted_session_id)
    current = next((s for s in sessions if str(s.id) == wanted), counts)
    context: dict[str, object] = {"sessions": sessions, "current": current, "counts": counts,
                                  "lines": [], "sections": []}
    if current is not None and current.id is not None:
        turns = await run_in_threadpool(ws.review.turns, current.id)
        assert interview.id is not None
        questions = await run_in_threadpool(ws.interviews.questions, current.interview_id)
        events = await run_in_threadpool(ws.review.events, current.id)
        context.update(
            lines=lines_of(turns),
            sections=sections(turns, questions),
            diagnostics=diagnose(events),
            scores=await run_in_threadpool(scores_for, request, current.id, current.interview_id),
            recording_url=(
                f"/app/candidates/{cid}/sessions/{current.id}/recording"
                if await run_in_threadpool(_has_file, current.recording_path)
                else ""
            ),
        )
    feedback = await run_in_threadpool(ws.feedback.feedback, cid)
    resume = await run_in_threadpool(repo(request, Resumes).get, cid)
    mine = next((r for r, _ in feedback.ratings if r.user_id == me.user_id), None)
    await run_in_threadpool(ws.audit.record_view, me, "candidate", cid)
    activity = await run_in_threadpool(
        lambda: ws.audit.recent(limit=50, target_type="candidate", target_id=cid)
    )
    context.update(
        candidate=candidate,
        interview=interview,
        feedback=feedback,
        resume=resume,
        mine=mine,
        activity=activity,
        link=f"{ws.settings.base_url}/i/{candidate.token}",
        added=request.query_params.get("added") == "1",
        retake=request.query_params.get("retake") == "1",
    )
    context.update(await run_in_threadpool(ws.phone.context, cid))
    context.update(profile_context(await run_in_threadpool(repo(request, Contacts).get, cid)))
    context.update(await messages_context(request, cid))
    context.update(await stages_context(request, cid))
    context.update(await consent_context(request, cid))
    context.update(await accommodation_context(request, cid))
    return render(request, "profile.html", context)


@page()
async def recording(request: Request) -> Response:
    ws = workspace(request)
    cid, sid = int(request.path_params["cid"]), int(request.path_params["sid"])
    row = await run_in_threadpool(ws.review.session, sid)
    if row.candidate_id != cid or not await run_in_threadpool(_has_file, row.recording_path):
        return PlainTextResponse("no recording for this session", status_code=404)
    return await recording_stream(request, row.recording_path, media_type="audio/ogg")


@page()
async def add_note(request: Request) -> Response:
    ws, cid = workspace(request), int(request.path_params["cid"])
    text = str((await request.form()).get("text", ""))
    note = await run_in_threadpool(ws.feedback.add_note, cid, who(request).user_id, text)
    await run_in_threadpool(ws.audit.record, who(request), "note", "candidate", cid, note=note.id)
    return RedirectResponse(f"/app/candidates/{cid}#notes", status_code=303)


def _choice(value: object, allowed: range | tuple[int, ...]) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise Invalid(f"{value!r} is not a rating") from None
    if number not in allowed:
        raise Invalid(f"{number} is not a rating")
    return number


@page()
async def rate(request: Request) -> Response:
    ws, cid = workspace(request), int(request.path_params["cid"])
    form = await request.form()
    stars, thumb = _choice(form.get("stars"), range(1, 6)), _choice(form.get("thumb"), (1, -1))
    if stars is None and thumb is None:
        raise Invalid("choose stars or a thumb")
    await run_in_threadpool(lambda: ws.feedback.rate(cid, who(request).user_id, stars=stars, thumb=thumb))
    detail = {k: v for k, v in (("stars", stars), ("thumb", thumb)) if v is not None}
    await run_in_threadpool(lambda: ws.audit.record(who(request), "rate", "candidate", cid, **detail))
    return RedirectResponse(f"/app/candidates/{cid}#ratings", status_code=303)


@page()
async def decide(request: Request) -> Response:
    ws, cid = workspace(request), int(request.path_params["cid"])
    decision = str((await request.form()).get("decision", ""))
    if not await run_in_threadpool(ws.candidates.decide, [cid], decision):
        raise NotFound(f"candidate {cid} does not exist")
    await run_in_threadpool(ws.audit.record, who(request), "status", "candidate", cid, status=decision)
    return RedirectResponse(f"/app/candidates/{cid}", status_code=303)


@page()
async def grant_retake(request: Request) -> Response:
    """One more attempt: the earlier sessions stay, and the link opens again."""
    ws, cid = workspace(request), int(request.path_params["cid"])
    row = await run_in_threadpool(ws.candidates.grant_retake, cid)
    await run_in_threadpool(lambda: ws.audit.record(who(request), "grant_retake", "candidate", cid,
                                                    retakes_granted=row.retakes_granted))
    return RedirectResponse(f"/app/candidates/{cid}?retake=1", status_code=303)


@page()
async def count_session(request: Request) -> Response:
    """Mark the session whose score is the candidate's."""
    ws, cid, sid = workspace(request), int(request.path_params["cid"]), int(request.path_params["sid"])
    await run_in_threadpool(ws.candidates.count_session, cid, sid)
    await run_in_threadpool(
        lambda: ws.audit.record(who(request), "count_session", "candidate", cid, session=sid))
    return RedirectResponse(f"/app/candidates/{cid}?session={sid}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/candidates/{cid:int}", profile),
        Route("/candidates/{cid:int}/sessions/{sid:int}/recording", recording),
        Route("/candidates/{cid:int}/notes", add_note, methods=["POST"]),
        Route("/candidates/{cid:int}/rating", rate, methods=["POST"]),
        Route("/candidates/{cid:int}/decision", decide, methods=["POST"]),
        Route("/candidates/{cid:int}/retake", grant_retake, methods=["POST"]),
        Route("/candidates/{cid:int}/sessions/{sid:int}/count", count_session, methods=["POST"]),
    ]
