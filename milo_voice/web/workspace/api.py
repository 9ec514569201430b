"""The JSON API: interviews, candidates and their results (with report PDFs and score cards), for
scripts and ATS integrations.

Authenticated by API key only (no cookies, hence no CSRF); a key acts with its user's role, so a
viewer's key can read but every write answers 403. Described by `/api/openapi.json`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.outreach import nudge
from milo_voice.outreach.nudge import Nudges
from milo_voice.scoring.pdf import SECTIONS
from milo_voice.scoring.report import ReportData
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Candidate, CandidateSource, Interview, UserRole
from milo_voice.web import reports
from milo_voice.web.repos import repo
from milo_voice.web.workspace import cursors
from milo_voice.web.workspace.auth import api, api_error, who
from milo_voice.web.workspace.message_pages import audit_nudge, messages_document, nudged_document
from milo_voice.web.workspace.openapi import spec
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace import editor
from milo_voice.workspace.candidates import CandidateQuery, CandidateRow
from milo_voice.workspace.diagnostics import diagnose
from milo_voice.workspace.review import lines_of

MAX_BODY = 1_000_000
"""Largest JSON body accepted (bytes): an interview with a logo fits with room to spare."""


async def body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Invalid(f"the request body is over {MAX_BODY} bytes")
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    return data


def interview_json(row: Interview, *, candidates: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "slug": row.slug,
        "version": row.version,
        "title": row.title,
        "role": row.role,
        "status": row.status,
        "archived": row.archived,
        "is_template": row.is_template,
        "language": row.language,
        "created_at": row.created_at.isoformat(),
    }
    if candidates is not None:
        out["candidates"] = candidates
    return out


def candidate_json(request: Request, row: Candidate, interview: Interview) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "email": row.email,
        "phone": row.phone,
        "status": row.status,
        "interview": interview.slug,
        "interview_version": interview.version,
        "location": row.location,
        "external_id": row.external_id,
        "source": row.source,
        "link": f"{workspace(request).settings.base_url}/i/{row.token}",
        "created_at": row.created_at.isoformat(),
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(spec(workspace(request).settings.base_url))


@api()
async def list_interviews(request: Request) -> Response:
    items = await run_in_threadpool(workspace(request).interviews.summaries)
    return JSONResponse([interview_json(s.interview, candidates=s.candidates) for s in items])


@api(UserRole.ADMIN)
async def create_interview(request: Request) -> Response:
    ws = workspace(request)
    data = await body(request)
    questions = data.get("questions")
    if not isinstance(questions, list) or not all(isinstance(q, dict) for q in questions):
        raise Invalid("questions must be a list of objects with at least a text")
    form = editor.parse(data, questions)
    row = await run_in_threadpool(ws.interviews.create, form)
    await run_in_threadpool(ws.audit.record, who(request), "create", "interview", row.slug, version=1)
    if data.get("publish") is True:
        row = await run_in_threadpool(ws.interviews.publish, row.slug)
        await run_in_threadpool(ws.audit.record, who(request), "publish", "interview", row.slug)
    return JSONResponse(interview_json(row), status_code=201)


@api()
async def get_interview(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    row = await run_in_threadpool(ws.interviews.latest, slug)
    form = await run_in_threadpool(ws.interviews.form, row)
    out = interview_json(row)
    out.update(
        greeting=form.greeting,
        closing=form.closing,
        voice=form.voice,
        thinking_silence=form.thinking_silence,
        max_silence=form.max_silence,
        questions=[
            {
                "text": q.text,
                "shape": q.shape.value,
                "follow_ups": list(q.follow_ups),
                "max_follow_ups": q.max_follow_ups,
                "wants_example": q.wants_example,
            }
            for q in form.questions
        ],
    )
    return JSONResponse(out)


@api(UserRole.ADMIN)
async def publish_interview(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    row = await run_in_threadpool(ws.interviews.publish, slug)
    await run_in_threadpool(ws.audit.record, who(request), "publish", "interview", slug)
    return JSONResponse(interview_json(row))


def candidate_fields(data: dict[str, Any]) -> dict[str, str]:
    fields = {}
    for key in ("name", "email", "phone", "location", "external_id"):
        value = data.get(key, "")
        if value is not None and not isinstance(value, str | int):
            raise Invalid(f"{key} must be a string")
        fields[key] = "" if value is None else str(value)
    return fields


@api(UserRole.ADMIN)
async def add_candidate(request: Request) -> Response:
    """Add one candidate; with an `external_id` already known to the interview, update that one (200)."""
    ws, slug = workspace(request), request.path_params["slug"]
    fields = candidate_fields(await body(request))
    row, created = await run_in_threadpool(lambda: ws.candidates.put(
        slug=slug, source=CandidateSource.API, region=ws.settings.default_region, **fields))
    _, interview = await run_in_threadpool(ws.candidates.get, row.id)
    action = "create" if created else "update"
    await run_in_threadpool(ws.audit.record, who(request), action, "candidate", row.id, interview=slug)
    return JSONResponse(candidate_json(request, row, interview), status_code=201 if created else 200)


def _row_json(request: Request, r: CandidateRow) -> dict[str, Any]:
    out = candidate_json(request, r.candidate, r.interview)
    out["stars"] = r.stars
    out["score"] = r.score
    out["band"] = r.band or None
    out["session_count"] = r.sessions
    out["last_session"] = (
        None
        if r.last_session is None
        else {
            "id": r.last_session.id,
            "status": r.last_session.status,
            "duration_s": r.last_session.duration_s,
        }
    )
    return out


@api()
async def list_candidates(request: Request) -> Response:
    """Filtered candidates, `limit` at a time (default 100, at most 500); the next page's URL is in the
    `Link: <...>; rel="next"` header and its cursor in `X-Next-Cursor` (absent on the last page)."""
    p = request.query_params
    page = cursors.Page.parse(p.get("cursor", ""), p.get("limit", ""), sort=p.get("sort", "created"))
    descending = p.get("dir", "desc") != "asc"
    query = CandidateQuery(slug=p.get("interview", ""), status=p.get("status", ""), search=p.get("q", ""),
                           band=p.get("band", ""), sort=page.sort, descending=descending,
                           external_id=p.get("external_id", ""), source=p.get("source", ""),
                           beyond_id=page.beyond_id, limit=page.fetch)
    rows = await run_in_threadpool(workspace(request).candidates.search, query)
    shown, cursor = page.cut(rows, key=lambda r: r.candidate.id or 0)
    headers = {}
    if cursor:
        following = request.url.include_query_params(cursor=cursor)
        headers = {"X-Next-Cursor": cursor, "Link": f'<{following}>; rel="next"'}
    return JSONResponse([_row_json(request, r) for r in shown], headers=headers)


@api()
async def get_candidate(request: Request) -> Response:
    ws, cid = workspace(request), int(request.path_params["cid"])
    row, interview = await run_in_threadpool(ws.candidates.get, cid)
    sessions = []
    for s in await run_in_threadpool(ws.review.sessions, cid):
        assert s.id is not None
        turns = await run_in_threadpool(ws.review.turns, s.id)
        timing = diagnose(await run_in_threadpool(ws.review.events, s.id))
        sessions.append(
            {
                "id": s.id,
                "status": s.status,
                "channel": s.channel,
                "interview_id": s.interview_id,
                "started_at": s.started_at.isoformat(),
                "duration_s": s.duration_s,
                "transcript": [
                    {"speaker": line.speaker, "start_s": line.start, "end_s": line.end, "text": line.text}
                    for line in lines_of(turns)
                ],
                "timing": {
                    "median_dead_air_s": timing.median_dead_air,
                    "barge_ins": timing.barge_ins,
                    "false_ends": timing.false_ends,
                },
            }
        )
    await run_in_threadpool(ws.audit.record, who(request), "view", "candidate", cid)
    out = candidate_json(request, row, interview)
    out["sessions"] = sessions
    return JSONResponse(out)


@api()
async def candidate_messages(request: Request) -> Response:
    """Every message to the candidate with its events, their deadline and their SMS replies."""
    return JSONResponse(await messages_document(request, int(request.path_params["cid"])))


@api(UserRole.ADMIN)
async def nudge_candidate(request: Request) -> Response:
    """Schedule a nudge now on each channel the candidate can get (400 with the reason when none)."""
    ws, cid, me = workspace(request), int(request.path_params["cid"]), who(request)
    await run_in_threadpool(ws.candidates.get, cid)  # an unknown candidate is a 404
    result = await run_in_threadpool(
        lambda: repo(request, Nudges).nudge(cid, nudge.config_from(ws.settings), by=me.actor))
    await audit_nudge(request, result)
    return JSONResponse(nudged_document(result), status_code=201)


async def _session_report(request: Request, fmt: str) -> ReportData:
    """The session's report data, once the session is known to exist; the download is audited."""
    ws, sid = workspace(request), int(request.path_params["id"])
    row = await run_in_threadpool(ws.review.session, sid)
    data = await reports.load(reports.scoring_store(request), sid)
    await run_in_threadpool(
        lambda: ws.audit.record(
            who(request), "download", "report", sid, candidate=row.candidate_id, format=fmt
        )
    )
    return data


@api()
async def session_report_pdf(request: Request) -> Response:
    if reports.pdf_sections(request) is None:
        raise Invalid(f"unknown sections; expected some of {', '.join(SECTIONS)}")
    return await reports.pdf_response(request, await _session_report(request, "pdf"))


@api()
async def session_score(request: Request) -> Response:
    data = await _session_report(request, "json")
    if data.card is None:
        return api_error(404, "this session has not been scored yet")
    return reports.score_response(data)


@api(UserRole.ADMIN)
async def list_phone_numbers(request: Request) -> Response:
    rows = await run_in_threadpool(workspace(request).phone_numbers.mapped)
    return JSONResponse([m.as_json() for m in rows])


@api(UserRole.ADMIN)
async def add_phone_number(request: Request) -> Response:
    """Map a number to an interview: `{"number": "+1 415 555 0100", "interview": slug, "version"?: n}`."""
    ws, data = workspace(request), await body(request)
    version = data.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise Invalid("version must be an integer (omit it for the newest published version)")
    mapped = await run_in_threadpool(
        ws.phone_numbers.add, str(data.get("number", "")), str(data.get("interview", "")), version
    )
    await run_in_threadpool(lambda: ws.audit.record(
        who(request), "create", "phone_number", mapped.number,
        interview=mapped.slug, version=mapped.version,
    ))
    return JSONResponse(mapped.as_json(), status_code=201)


@api(UserRole.ADMIN)
async def remove_phone_number(request: Request) -> Response:
    ws = workspace(request)
    removed = await run_in_threadpool(ws.phone_numbers.remove, request.path_params["number"])
    await run_in_threadpool(lambda: ws.audit.record(
        who(request), "delete", "phone_number", removed.number,
        interview=removed.slug, version=removed.version,
    ))
    return JSONResponse(removed.as_json())


def routes() -> list[BaseRoute]:
    return [
        Route("/openapi.json", openapi),
        Route("/interviews", list_interviews),
        Route("/interviews", create_interview, methods=["POST"]),
        Route("/interviews/{slug}", get_interview),
        Route("/interviews/{slug}/publish", publish_interview, methods=["POST"]),
        Route("/interviews/{slug}/candidates", add_candidate, methods=["POST"]),
        Route("/candidates", list_candidates),
        Route("/candidates/{cid:int}", get_candidate),
        Route("/candidates/{cid:int}/messages", candidate_messages),
        Route("/candidates/{cid:int}/nudge", nudge_candidate, methods=["POST"]),
        Route("/sessions/{id:int}/report.pdf", session_report_pdf),
        Route("/sessions/{id:int}/score.json", session_score),
        Route("/phone-numbers", list_phone_numbers),
        Route("/phone-numbers", add_phone_number, methods=["POST"]),
        Route("/phone-numbers/{number}", remove_phone_number, methods=["DELETE"]),
    ]
