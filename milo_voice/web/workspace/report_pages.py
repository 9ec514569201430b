"""Reports and exports behind the recruiter login: the same pages and files as the share links
(`web/reports.py` does the work), found by candidate and session instead of by token, and audited.

Any role may view and download (viewers review candidates). The report page also manages the
session's public share link: create one to send outside the team, or revoke it (which also
breaks a link sent in a `report.available` webhook).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.scoring.report import ReportData
from milo_voice.store.repo import NotFound
from milo_voice.web import reports
from milo_voice.web.recording_stream import recordings_of
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.csrf import csrf_token
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.report_links import ReportLinks


def _ids(request: Request) -> tuple[int, int]:
    return int(request.path_params["cid"]), int(request.path_params["sid"])


def _base(cid: int, sid: int) -> str:
    return f"/app/candidates/{cid}/sessions/{sid}"


async def _session_of(request: Request) -> tuple[int, int]:
    """The path's candidate and session ids, once the session is known to be that candidate's."""
    cid, sid = _ids(request)
    row = await run_in_threadpool(workspace(request).review.session, sid)
    if row.candidate_id != cid:
        raise NotFound(f"candidate {cid} has no session {sid}")
    return cid, sid


async def _report(request: Request, action: str, **detail: object) -> ReportData:
    cid, sid = await _session_of(request)
    data = await reports.load(reports.scoring_store(request), sid)
    ws = workspace(request)
    await run_in_threadpool(
        lambda: ws.audit.record(who(request), action, "report", sid, candidate=cid, **detail)
    )
    return data


def _links(request: Request) -> ReportLinks:
    return repo(request, ReportLinks)


@page()
async def report_page(request: Request) -> Response:
    data = await _report(request, "view report")
    cid, sid = _ids(request)
    base = _base(cid, sid)
    urls = reports.ReportUrls(
        f"{base}/report.pdf", f"{base}/report.zip", f"{base}/report.json", f"{base}/recording"
    )
    token = await run_in_threadpool(_links(request).current, sid)
    share = {
        "url": f"{workspace(request).settings.base_url}/reports/{token}" if token else "",
        "create": f"{base}/share",
        "revoke": f"{base}/share/revoke",
        "csrf": csrf_token(request),
    }
    extra = {"back_url": f"/app/candidates/{cid}?session={sid}", "share": share}
    return reports.page_response(request, data, urls, extra)


@page()
async def report_pdf(request: Request) -> Response:
    sections = reports.pdf_sections(request)
    if sections is None:
        return reports.unknown_sections()
    data = await _report(request, "download", format="pdf", sections=",".join(sections))
    return await reports.pdf_response(request, data)


@page()
async def report_zip(request: Request) -> Response:
    data = await _report(request, "download", format="zip")
    return await reports.zip_response(data, recordings_of(request))


@page()
async def report_json(request: Request) -> Response:
    return reports.score_response(await _report(request, "download", format="json"))


@page()
async def share(request: Request) -> Response:
    """Make (or keep) the session's public link; it is shown on the report page."""
    cid, sid = await _session_of(request)
    await run_in_threadpool(lambda: reports.scoring_store(request).report_token(session_id=sid))
    await run_in_threadpool(
        lambda: workspace(request).audit.record(who(request), "share", "report", sid, candidate=cid)
    )
    return RedirectResponse(f"{_base(cid, sid)}/report#share", status_code=303)


@page()
async def revoke(request: Request) -> Response:
    cid, sid = await _session_of(request)
    count = await run_in_threadpool(_links(request).revoke, sid)
    await run_in_threadpool(
        lambda: workspace(request).audit.record(
            who(request), "revoke link", "report", sid, candidate=cid, links=count
        )
    )
    return RedirectResponse(f"{_base(cid, sid)}/report#share", status_code=303)


@page()
async def export(request: Request) -> Response:
    """An interview's candidates (every version of the slug), with links to their workspace reports."""
    ws = workspace(request)
    slug, fmt = request.path_params["slug"], request.url.path.rsplit(".", 1)[-1]
    versions = await run_in_threadpool(ws.interviews.versions, slug)
    ids = sorted(v.id for v in versions if v.id is not None)
    base = ws.settings.base_url

    def url(candidate_id: int, session_id: int) -> str:
        return f"{base}{_base(candidate_id, session_id)}/report"

    await run_in_threadpool(lambda: ws.audit.record(who(request), "download", "export", slug, format=fmt))
    return await reports.export_response(reports.scoring_store(request), ids, fmt, url)


def routes() -> list[BaseRoute]:
    session = "/candidates/{cid:int}/sessions/{sid:int}"
    return [
        Route(f"{session}/report", report_page),
        Route(f"{session}/report.pdf", report_pdf),
        Route(f"{session}/report.zip", report_zip),
        Route(f"{session}/report.json", report_json),
        Route(f"{session}/share", share, methods=["POST"]),
        Route(f"{session}/share/revoke", revoke, methods=["POST"]),
        *(Route(f"/interviews/{{slug}}/candidates.{fmt}", export) for fmt in reports.EXPORT_FORMATS),
    ]
