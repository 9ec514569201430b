"""Report pages and downloads: web report, PDF, ZIP, score JSON, recording; candidate CSV/JSON export.

TODO(auth, issue 5): these routes are keyed only by unguessable 256-bit link tokens
(`report_link` table); the workspace should put its recruiter login in front of them.
Blocking work (database, PDF, ZIP) runs in the thread pool.
"""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.models import ReportLink
from milo_voice.scoring import export
from milo_voice.scoring.package import build_zip
from milo_voice.scoring.pdf import SECTIONS, render_pdf, verdict
from milo_voice.scoring.report import ReportData, clock, gather
from milo_voice.scoring.store import ScoringStore

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.globals.update(clock=clock, verdict=verdict)
NOT_FOUND = "<h1>This report link is not valid.</h1>"


def scoring_store(request: Request) -> ScoringStore:
    return ScoringStore(request.app.state.store.engine)


async def _link(request: Request) -> tuple[ScoringStore, ReportLink | None]:
    store = scoring_store(request)
    link = await run_in_threadpool(store.resolve_token, request.path_params["token"])
    return store, link


async def _report(request: Request) -> ReportData | None:
    store, link = await _link(request)
    if link is None or link.session_id is None:
        return None
    return await run_in_threadpool(gather, store, link.session_id)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


async def report_page(request: Request) -> Response:
    data = await _report(request)
    if data is None:
        return HTMLResponse(NOT_FOUND, status_code=404)
    context = {
        "data": data,
        "card": data.card,
        "base": f"/reports/{request.path_params['token']}",
        "has_recording": data.recording_exists,
    }
    return templates.TemplateResponse(request, "report.html", context)


async def report_pdf(request: Request) -> Response:
    data = await _report(request)
    if data is None:
        return HTMLResponse(NOT_FOUND, status_code=404)
    raw = request.query_params.get("sections", "")
    sections = [s for s in raw.split(",") if s] or list(SECTIONS)
    if set(sections) - set(SECTIONS):
        return HTMLResponse(f"Unknown sections; expected some of {', '.join(SECTIONS)}", status_code=400)
    pdf = await run_in_threadpool(render_pdf, data, sections=sections)
    return _download(pdf, "application/pdf", f"report-{data.session_id}.pdf")


async def report_zip(request: Request) -> Response:
    data = await _report(request)
    if data is None:
        return HTMLResponse(NOT_FOUND, status_code=404)
    package = await run_in_threadpool(build_zip, data)
    return _download(package, "application/zip", f"interview-{data.session_id}.zip")


async def report_json(request: Request) -> Response:
    data = await _report(request)
    if data is None or data.card is None:
        return HTMLResponse(NOT_FOUND, status_code=404)
    return Response(data.card.model_dump_json(indent=2), media_type="application/json")


async def report_recording(request: Request) -> Response:
    data = await _report(request)
    if data is None or not data.recording_path or not data.recording_exists:
        return HTMLResponse(NOT_FOUND, status_code=404)
    return FileResponse(data.recording_path)


async def candidates_export(request: Request) -> Response:
    store, link = await _link(request)
    fmt = request.path_params["fmt"]
    if link is None or link.interview_id is None or fmt not in ("csv", "json"):
        return HTMLResponse(NOT_FOUND, status_code=404)
    base = str(request.base_url).rstrip("/")

    def url(session_id: int) -> str:
        return f"{base}/reports/{store.report_token(session_id=session_id)}"

    records = await run_in_threadpool(export.rows, store, link.interview_id, url)
    if fmt == "csv":
        return _download(export.to_csv(records).encode(), "text/csv; charset=utf-8", "candidates.csv")
    return _download(export.to_json(records).encode(), "application/json", "candidates.json")


def routes() -> list[BaseRoute]:
    return [
        Route("/reports/{token}", report_page),
        Route("/reports/{token}/report.pdf", report_pdf),
        Route("/reports/{token}/package.zip", report_zip),
        Route("/reports/{token}/score.json", report_json),
        Route("/reports/{token}/recording", report_recording),
        Route("/exports/{token}/candidates.{fmt}", candidates_export),
    ]
