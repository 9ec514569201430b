"""Report pages and downloads: web report, PDF, ZIP, score JSON, recording; candidate CSV/JSON export.

One implementation behind three front doors, which differ only in how they find the session:

- share links (`/reports/{token}`, `/exports/{token}/...`, routes here): a 256-bit token in
  `report_link`, no login. They exist for people outside the team (the webhook's `report_url`, a
  hiring manager a recruiter sends a link to); a recruiter can revoke one from the workspace.
- the workspace (`/app/candidates/{cid}/sessions/{sid}/report...`, `web/workspace/report_pages.py`):
  signed-in users, audited.
- the JSON API (`/api/sessions/{id}/...`, `web/workspace/api.py`): API keys, audited.

Each front door resolves its key to a session id (or interview ids) and calls the responders
below. Blocking work (database, PDF, ZIP) runs in the thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.scoring import export
from milo_voice.scoring.package import build_zip
from milo_voice.scoring.pdf import SECTIONS, render_pdf, verdict
from milo_voice.scoring.report import ReportData, clock, gather
from milo_voice.scoring.store import ScoringStore
from milo_voice.store.recordings import Recordings
from milo_voice.store.tables import ReportLink
from milo_voice.web.recording_stream import recording_stream, recordings_of
from milo_voice.web.repos import repo

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.globals.update(clock=clock, verdict=verdict)
assert templates.env.autoescape, "reports show candidate-provided text: autoescape must stay on"
NOT_FOUND = "<h1>This report link is not valid.</h1>"
EXPORT_FORMATS = ("csv", "json")


@dataclass(frozen=True, slots=True)
class ReportUrls:
    """Where the web report's download links and audio player point (they differ per front door)."""

    pdf: str
    zip: str
    score: str
    recording: str


def scoring_store(request: Request) -> ScoringStore:
    return repo(request, ScoringStore)


async def load(store: ScoringStore, session_id: int) -> ReportData:
    return await run_in_threadpool(gather, store, session_id)


def download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


# -- the responders every front door shares -------------------------------------------------------


def page_response(
    request: Request, data: ReportData, urls: ReportUrls, extra: dict[str, Any] | None = None
) -> Response:
    """The web report; `extra` adds the workspace's bits (back link, share-link form)."""
    context = {"data": data, "card": data.card, "urls": urls, "has_recording": data.recording_exists}
    return templates.TemplateResponse(request, "report.html", {**context, **(extra or {})})


def pdf_sections(request: Request) -> list[str] | None:
    """The `?sections=` asked for (all when absent); None when one is unknown."""
    raw = request.query_params.get("sections", "")
    sections = [s for s in raw.split(",") if s] or list(SECTIONS)
    return None if set(sections) - set(SECTIONS) else sections


def unknown_sections() -> Response:
    return PlainTextResponse(f"Unknown sections; expected some of {', '.join(SECTIONS)}", status_code=400)


async def pdf_response(request: Request, data: ReportData) -> Response:
    sections = pdf_sections(request)
    if sections is None:
        return unknown_sections()
    pdf = await run_in_threadpool(render_pdf, data, sections=sections)
    return download(pdf, "application/pdf", f"report-{data.session_id}.pdf")


async def zip_response(data: ReportData, recordings: Recordings | None = None) -> Response:
    """The ZIP; `recordings` (the server's) reads the media of an uploaded session from the store."""
    package = await run_in_threadpool(build_zip, data, recordings)
    return download(package, "application/zip", f"interview-{data.session_id}.zip")


def score_response(data: ReportData) -> Response:
    if data.card is None:
        return PlainTextResponse("This session has not been scored yet.", status_code=404)
    return Response(data.card.model_dump_json(indent=2), media_type="application/json")


async def recording_response(request: Request, data: ReportData) -> Response:
    """The recording, from the disk or the object store, honouring Range (`web.recording_stream`)."""
    if not data.recording_path or not data.recording_exists:
        return PlainTextResponse("This session has no recording.", status_code=404)
    return await recording_stream(request, data.recording_path)


async def export_response(
    store: ScoringStore,
    interview_ids: list[int],
    fmt: str,
    report_url: Callable[[int, int], str],
) -> Response:
    """Candidates of these interview versions; `report_url(candidate_id, session_id)` for scored ones."""

    def records() -> list[dict[str, Any]]:
        out = []
        for interview_id in interview_ids:
            for row in export.rows(store, interview_id, lambda _session_id: "scored"):
                if row["report_url"]:
                    row["report_url"] = report_url(row["candidate_id"], row["session_id"])
                out.append(row)
        return out

    found = await run_in_threadpool(records)
    if fmt == "csv":
        return download(export.to_csv(found).encode(), "text/csv; charset=utf-8", "candidates.csv")
    return download(export.to_json(found).encode(), "application/json", "candidates.json")


# -- the share-link front door -----------------------------------------------------------------------


async def _link(request: Request) -> tuple[ScoringStore, ReportLink | None]:
    store = scoring_store(request)
    link = await run_in_threadpool(store.resolve_token, request.path_params["token"])
    return store, link


async def _linked_report(request: Request) -> ReportData | None:
    store, link = await _link(request)
    if link is None or link.session_id is None:
        return None
    return await load(store, link.session_id)


def _not_found() -> Response:
    return HTMLResponse(NOT_FOUND, status_code=404)


async def report_page(request: Request) -> Response:
    data = await _linked_report(request)
    if data is None:
        return _not_found()
    base = f"/reports/{request.path_params['token']}"
    urls = ReportUrls(f"{base}/report.pdf", f"{base}/package.zip", f"{base}/score.json", f"{base}/recording")
    return page_response(request, data, urls)


async def report_pdf(request: Request) -> Response:
    data = await _linked_report(request)
    return _not_found() if data is None else await pdf_response(request, data)


async def report_zip(request: Request) -> Response:
    data = await _linked_report(request)
    if data is None:
        return _not_found()
    # Outside the team, a share link does not carry the consent records (their IP address and browser).
    return await zip_response(replace(data, consent=None), recordings_of(request))


async def report_json(request: Request) -> Response:
    data = await _linked_report(request)
    return _not_found() if data is None else score_response(data)


async def report_recording(request: Request) -> Response:
    data = await _linked_report(request)
    return _not_found() if data is None else await recording_response(request, data)


async def candidates_export(request: Request) -> Response:
    store, link = await _link(request)
    fmt = request.path_params["fmt"]
    if link is None or link.interview_id is None or fmt not in EXPORT_FORMATS:
        return _not_found()
    base = str(request.base_url).rstrip("/")

    def url(_candidate_id: int, session_id: int) -> str:
        return f"{base}/reports/{store.report_token(session_id=session_id)}"

    return await export_response(store, [link.interview_id], fmt, url)


def routes() -> list[BaseRoute]:
    return [
        Route("/reports/{token}", report_page),
        Route("/reports/{token}/report.pdf", report_pdf),
        Route("/reports/{token}/package.zip", report_zip),
        Route("/reports/{token}/score.json", report_json),
        Route("/reports/{token}/recording", report_recording),
        Route("/exports/{token}/candidates.{fmt}", candidates_export),
    ]
