"""Analytics pages: the whole workspace (`/app/analytics`) and one interview's (`.../{slug}/analytics`).

Both show the last `?days=` UTC days (7..365, default 30): a dated chart, the days as a table,
spend and the hours-saved estimate. Every signed-in user sees them.
"""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.tables import Candidate, InterviewSession
from milo_voice.web.workspace.auth import page
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import Workspace, workspace
from milo_voice.workspace import analytics
from milo_voice.workspace.analytics import MAX_DAYS, MIN_DAYS, Period
from milo_voice.workspace.analytics_chart import chart

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


@page()
async def workspace_analytics(request: Request) -> Response:
    ws = workspace(request)
    days, today = analytics.parse_days(request.query_params.get("days")), ws.review.now()
    since = analytics.Window.ending(today, days).since
    candidates, sessions = await run_in_threadpool(ws.review.workspace_rows, since)
    period = _period(ws, candidates, sessions, today, days)
    return render(request, "workspace_analytics.html", _context(period, "/app/analytics"))


@page()
async def interview_analytics(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    days = analytics.parse_days(request.query_params.get("days"))
    current = await run_in_threadpool(ws.interviews.latest, slug)
    candidates, sessions = await run_in_threadpool(ws.review.funnel_rows, slug)
    period = _period(ws, candidates, sessions, ws.review.now(), days)
    context = _context(period, f"/app/interviews/{slug}/analytics")
    context.update(interview=current, stats=analytics.compute(candidates, sessions))
    return render(request, "analytics.html", context)


def routes() -> list[BaseRoute]:
    return [
        Route("/analytics", workspace_analytics),
        Route("/interviews/{slug}/analytics", interview_analytics),
    ]
