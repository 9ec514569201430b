"""Analytics pages: the whole workspace (`/app/analytics`) and one interview's (`.../{slug}/analytics`).

Both show the last `?days=` UTC days (7..365, default 30): a dated chart, the days as a table,
spend and the hours-saved estimate, and the outreach funnel of the candidates added in those days
(`workspace/funnel.py`) as charts and a table; `.../analytics/funnel.csv?days=` downloads the
funnel (`workspace/funnel_csv.py`). Every signed-in user sees them.
"""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.tables import Candidate, InterviewSession
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import Workspace, workspace
from milo_voice.workspace import analytics
from milo_voice.workspace.analytics import MAX_DAYS, MIN_DAYS, Period
from milo_voice.workspace.analytics_chart import chart
from milo_voice.workspace.funnel import Funnel
from milo_voice.workspace.funnel_chart import charts
from milo_voice.workspace.funnel_csv import funnel_csv
from milo_voice.workspace.funnel_rows import FunnelData

CHOICES = (7, 30, 90, 365)
"""The ranges offered as links (any other `?days=` in 7..365 works too)."""


def _period(
    ws: Workspace, candidates: list[Candidate], sessions: list[InterviewSession], today: datetime, days: int
) -> Period:
    return analytics.period(
        candidates,
        sessions,
        today=today,
        days=days,
        cpu_price_per_hour=ws.settings.cpu_price_per_hour,
        minutes_per_screen=ws.settings.minutes_per_screen,
    )


def _context(period: Period, path: str) -> dict[str, object]:
    return {
        "period": period,
        "chart": chart(period.days),
        "choices": CHOICES,
        "path": path,
        "min_days": MIN_DAYS,
        "max_days": MAX_DAYS,
    }


async def _funnel(request: Request, slug: str | None, days: int) -> Funnel:
    """The outreach funnel of the candidates added in the last `days` UTC days."""
    since = analytics.Window.ending(workspace(request).review.now(), days).since
    return await run_in_threadpool(repo(request, FunnelData).funnel, slug, since)


def _funnel_context(funnel: Funnel, csv_url: str) -> dict[str, object]:
    return {"funnel": funnel, "funnel_charts": charts(funnel), "csv_url": csv_url}


def _csv(funnel: Funnel, name: str) -> Response:
    return Response(funnel_csv(funnel).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@page()
async def workspace_analytics(request: Request) -> Response:
    ws = workspace(request)
    days, today = analytics.parse_days(request.query_params.get("days")), ws.review.now()
    since = analytics.Window.ending(today, days).since
    candidates, sessions = await run_in_threadpool(ws.review.workspace_rows, since)
    period = _period(ws, candidates, sessions, today, days)
    funnel = await _funnel(request, None, days)
    context = _context(period, "/app/analytics")
    context.update(_funnel_context(funnel, f"/app/analytics/funnel.csv?days={days}"))
    return render(request, "workspace_analytics.html", context)


@page()
async def interview_analytics(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    days = analytics.parse_days(request.query_params.get("days"))
    current = await run_in_threadpool(ws.interviews.latest, slug)
    candidates, sessions = await run_in_threadpool(ws.review.funnel_rows, slug)
    period = _period(ws, candidates, sessions, ws.review.now(), days)
    funnel = await _funnel(request, slug, days)
    context = _context(period, f"/app/interviews/{slug}/analytics")
    context.update(interview=current, stats=analytics.compute(candidates, sessions))
    context.update(_funnel_context(funnel, f"/app/interviews/{slug}/analytics/funnel.csv?days={days}"))
    return render(request, "analytics.html", context)


@page()
async def workspace_funnel_csv(request: Request) -> Response:
    days = analytics.parse_days(request.query_params.get("days"))
    return _csv(await _funnel(request, None, days), f"funnel-all-{days}d.csv")


@page()
async def interview_funnel_csv(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    days = analytics.parse_days(request.query_params.get("days"))
    await run_in_threadpool(ws.interviews.latest, slug)  # an unknown interview is a 404
    return _csv(await _funnel(request, slug, days), f"funnel-{slug}-{days}d.csv")


def routes() -> list[BaseRoute]:
    return [
        Route("/analytics", workspace_analytics),
        Route("/analytics/funnel.csv", workspace_funnel_csv),
        Route("/interviews/{slug}/analytics", interview_analytics),
        Route("/interviews/{slug}/analytics/funnel.csv", interview_funnel_csv),
    ]
