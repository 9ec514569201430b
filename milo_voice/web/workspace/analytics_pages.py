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
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import Workspace, workspace
from milo_voice.workspace import analytics
from milo_voice.workspace.analytics import MAX_DAYS, MIN_DAYS, Period
from milo_voice.workspace.analytics_chart import chart
from milo_voice.workspace.funnel import Funnel, FunnelData, Stages, compute
from milo_voice.workspace.funnel_chart import HChart, hbars
from milo_voice.workspace.funnel_csv import funnel_csv

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


STAGES = ("invited", "opened", "started", "completed")
KINDS = {"invited": "added", "opened": "opened", "started": "started", "completed": "completed"}
"""Stage -> the bar's CSS class (the colours of the day chart)."""


async def _funnel(request: Request, slug: str | None, days: int) -> Funnel:
    ws = workspace(request)
    since = analytics.Window.ending(ws.review.now(), days).since
    rows = await run_in_threadpool(repo(request, FunnelData).rows, slug, since)
    return compute(*rows)


def funnel_charts(funnel: Funnel) -> dict[str, HChart]:
    def stages(groups: list[Stages]) -> list[tuple[str, list[tuple[str, int]]]]:
        return [(g.label, [(KINDS[s], getattr(g, s)) for s in STAGES]) for g in groups]

    return {
        "stages": hbars([(s.capitalize(), [(KINDS[s], getattr(funnel.total, s))]) for s in STAGES],
                        title="Candidates added in the period: invited, opened, started, completed"),
        "source": hbars(stages(funnel.by_source), title="The funnel by how candidates were added"),
        "channel": hbars(stages(funnel.by_channel), title="The funnel by the outreach channels used"),
        "after": hbars([(label, [("completed", n)]) for label, n in funnel.completed_after],
                       title="Completions by the last message before them"),
        "drop": hbars([(d.question[:40], [("started", d.sessions)]) for d in funnel.drop_off],
                      title="Interviews left unfinished, by the last question reached"),
    }


def _csv(funnel: Funnel, name: str) -> Response:
    return Response(funnel_csv(funnel), media_type="text/csv; charset=utf-8",
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
    context.update(funnel=funnel, funnel_charts=funnel_charts(funnel),
                   csv_url=f"/app/analytics/funnel.csv?days={days}")
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
    context.update(interview=current, stats=analytics.compute(candidates, sessions), funnel=funnel,
                   funnel_charts=funnel_charts(funnel),
                   csv_url=f"/app/interviews/{slug}/analytics/funnel.csv?days={days}")
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
