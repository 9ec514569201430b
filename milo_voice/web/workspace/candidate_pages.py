"""Candidate pages: the list (filters, search, sorting, column chooser), the board by stage, adding one
by hand, and bulk shortlist / dismiss (bulk nudges: `message_pages`).

The list's Last engaged and Messages columns come from the outreach message log in two queries for
the whole list (`MessageLog.summaries`), never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.outreach.message_log import MessageLog, Summary
from milo_voice.stages.board import lane_of, lane_order
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.message_pages import pop_flash
from milo_voice.web.workspace.render import render, when
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.candidates import SORTS, STATUSES, CandidateQuery, CandidateRow
from milo_voice.workspace.pipeline import Pipeline, pipelines
from milo_voice.workspace.triage import BAND_LABELS

COLUMNS = [
    ("interview", "Interview"),
    ("status", "Status"),
    ("score", "Score"),
    ("band", "Band"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("rating", "Rating"),
    ("duration", "Duration"),
    ("created", "Added"),
    ("engaged", "Last engaged"),
    ("messages", "Messages"),
    ("resume_status", "Resume status"),
    ("form_status", "Form status"),
    ("voice_status", "Web interview status"),
]
STAGE_COLUMNS = {"resume_status": "resume", "form_status": "form", "voice_status": "voice"}
"""Per-type status columns (issue 18): shown by default when a listed candidate has stages."""
DEFAULT_COLUMNS = ("interview", "status", "score", "band", "rating", "duration", "created", "engaged",
                   "messages")
SORTABLE = (*SORTS, "score")


@dataclass(frozen=True, slots=True)
class Engagement:
    """A row's Last engaged and Messages cells."""

    last_engaged: datetime | None = None
    """When the candidate last did something (opened, replied, started), else first opened; None: never."""
    messages: int = 0
    last_message: str = ""
    """The Messages cell's tooltip."""


def engagement(rows: Sequence[CandidateRow], summaries: dict[int, Summary]) -> dict[int, Engagement]:
    out = {}
    for row in rows:
        cid = row.candidate.id or 0
        found = summaries.get(cid) or Summary()
        sent = f"last sent {when(found.last_sent_at)}" if found.last_sent_at else "none sent yet"
        tip = f"last message {when(found.last_at)}; {sent}" if found.last_at else ""
        out[cid] = Engagement(found.last_engaged_at or row.candidate.opened_at, found.count, tip)
    return out


def query_of(request: Request) -> CandidateQuery:
    p = request.query_params
    sort = p.get("sort", "created")
    return CandidateQuery(
        slug=p.get("interview", ""),
        status=p.get("status", ""),
        search=p.get("q", "")[:200],
        sort=sort if sort in SORTABLE else "created",
        descending=p.get("dir", "desc") != "asc",
        band=p.get("band", ""),  # an unknown band is a clear 400 (CandidateQuery checks it)
    )


@page()
async def list_candidates(request: Request) -> Response:
    ws = workspace(request)
    query = query_of(request)
    rows = await run_in_threadpool(ws.candidates.search, query)
    interviews = await run_in_threadpool(ws.interviews.summaries)
    summaries = await run_in_threadpool(repo(request, MessageLog).summaries,
                                        [r.candidate.id for r in rows if r.candidate.id is not None])
    ids = [r.candidate.id for r in rows if r.candidate.id is not None]
    staged = any(r.candidate.stage_kind for r in rows)
    stage_status = await run_in_threadpool(repo(request, Pipeline).statuses_by_kind, ids) if staged else {}
    defaults = [*DEFAULT_COLUMNS, *(STAGE_COLUMNS if staged else ())]
    columns = [c for c in request.query_params.getlist("cols") if c in dict(COLUMNS)] or defaults
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("sort", "dir")]
    sort_links = {
        c: "/app/candidates?"
        + urlencode(
            [*params, ("sort", c), ("dir", "asc" if query.sort == c and query.descending else "desc")]
        )
        for c in SORTABLE
    }
    board: dict[str, list[CandidateRow]] = {s: [] for s in STATUSES}
    for row in rows:
        board.setdefault(row.candidate.status, []).append(row)
    view = request.query_params.get("view", "")
    return render(
        request,
        "candidates.html",
        {
            "rows": rows,
            "engagement": engagement(rows, summaries),
            "flash": pop_flash(request),
            "query": query,
            "interviews": interviews,
            "board": board,
            "view": view if view in ("board", "stages") else "table",
            "stage_board": await stage_board(request.app.state.engine, rows) if view == "stages" else [],
            "stage_status": stage_status,
            "stage_columns": STAGE_COLUMNS,
            "columns": columns,
            "all_columns": COLUMNS,
            "sortable": set(SORTABLE),
            "bands": BAND_LABELS,
            "sort_links": sort_links,
            "header": [("name", "Name"), *[(c, label) for c, label in COLUMNS if c in columns]],
            "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        },
    )


async def stage_board(engine: object, rows: Sequence[CandidateRow]) -> list[tuple[str, list[CandidateRow]]]:
    """The board by stage: each column with its candidates, in pipeline order."""
    found = await run_in_threadpool(pipelines, engine, [r.candidate.interview_id for r in rows])
    lanes: dict[str, list[CandidateRow]] = {name: [] for name in lane_order(found.values())}
    for row in rows:
        c = row.candidate
        lanes.setdefault(lane_of(c.status, found[c.interview_id], c.stage_position), []).append(row)
    return list(lanes.items())


@page(UserRole.ADMIN)
async def add_candidate(request: Request) -> Response:
    ws = workspace(request)
    form = await request.form()
    slug = str(form.get("interview", ""))
    try:
        row = await run_in_threadpool(
            lambda: ws.candidates.add(
                slug=slug,
                name=str(form.get("name", "")),
                email=str(form.get("email", "")),
                phone=str(form.get("phone", "")),
            )
        )
    except Invalid as exc:
        return render(
            request, "message.html", {"heading": "The candidate was not added", "message": str(exc)}, 400
        )
    await run_in_threadpool(ws.audit.record, who(request), "create", "candidate", row.id, interview=slug)
    return RedirectResponse(f"/app/candidates/{row.id}?added=1", status_code=303)


@page()
async def bulk(request: Request) -> Response:
    ws = workspace(request)
    form = await request.form()
    ids = [int(i) for i in form.getlist("ids") if str(i).isdigit()]
    decision = str(form.get("decision", ""))
    changed = await run_in_threadpool(ws.candidates.decide, ids, decision)
    for cid in changed:
        await run_in_threadpool(
            ws.audit.record, who(request), "status", "candidate", cid, status=decision, bulk=len(changed)
        )
    back = str(form.get("back", ""))
    return RedirectResponse(
        back if back.startswith("/app/candidates") else "/app/candidates", status_code=303
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/candidates", list_candidates),
        Route("/candidates", add_candidate, methods=["POST"]),
        Route("/candidates/bulk", bulk, methods=["POST"]),
    ]
