"""The recruiter workspace over HTTP: pages under /app (session cookie + CSRF) and the JSON API
under /api (API keys). `routes()` is what `create_app` plugs in; nothing here is reachable
without signing in except the login and invite pages, static assets and the OpenAPI description.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from milo_voice.web.workspace import (
    accommodation_pages,
    account_pages,
    analytics_pages,
    api,
    ats_pages,
    bias_audit_pages,
    candidate_pages,
    erasure_pages,
    escalation_pages,
    intake_api,
    intake_pages,
    interview_pages,
    job_pages,
    message_pages,
    notice_pages,
    outreach_pages,
    outreach_settings_pages,
    phone_pages,
    places_pages,
    profile_pages,
    report_pages,
    retention_pages,
    stage_pages,
    webhook_pages,
)
from milo_voice.web.workspace.auth import LazySessions
from milo_voice.web.workspace.render import STATIC


async def home(request: Request) -> Response:
    return RedirectResponse("/app/interviews", status_code=303)


def page_routes() -> list[BaseRoute]:
    """Every page under /app, each guarded by `auth.page` or `auth.public_form` (a test checks)."""
    return [
        *account_pages.routes(),
        *intake_pages.routes(),
        *ats_pages.routes(),
        *places_pages.routes(),
        *stage_pages.routes(),  # before interview_pages: POST /interviews/{slug}/{action}
        *outreach_pages.routes(),  # before interview_pages: its POST /interviews/{slug}/{action} would match
        *interview_pages.routes(),
        *analytics_pages.routes(),
        *candidate_pages.routes(),
        *escalation_pages.routes(),
        *accommodation_pages.routes(),
        *profile_pages.routes(),
        *erasure_pages.routes(),
        *message_pages.routes(),
        *report_pages.routes(),
        *webhook_pages.routes(),
        *notice_pages.routes(),
        *phone_pages.routes(),
        *outreach_settings_pages.routes(),
        *retention_pages.routes(),
        *job_pages.routes(),
        *bias_audit_pages.routes(),
    ]


def routes() -> list[BaseRoute]:
    return [
        Route("/app", home),
        Mount(
            "/app",
            routes=[Route("/", home), Mount("/static", StaticFiles(directory=STATIC)), *page_routes()],
            middleware=[Middleware(LazySessions)],
        ),
        # Plain routes, not a Mount: a Mount("/api") would swallow other areas' /api/* paths.
        *(
            Route("/api" + r.path, r.endpoint, methods=r.methods)
            for r in [*api.routes(), *intake_api.routes()]
            if isinstance(r, Route)
        ),
    ]
