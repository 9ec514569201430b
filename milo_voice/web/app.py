"""The Starlette application: the composition root for HTTP. Nothing imports `web`.

Each area of the product lives in its own module under `milo_voice/web/` and exposes
`routes() -> list[BaseRoute]`; handlers read what they share from `request.app.state`:

- `settings` (`Settings`), `engine` (the database) and `now` (its clock): handlers build the
  repository they need over them (`web/repos.py`; blocking: call it via `run_in_threadpool`),
- `runtime` (`LazyRuntime`: `await request.app.state.runtime.get()` loads the models once).

`create_app` only concatenates those route lists and sets that state.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.calls.engines import LazyRuntime
from milo_voice.settings import Settings
from milo_voice.store.db import DbEngine
from milo_voice.store.repo import Clock
from milo_voice.store.tables import utc_now
from milo_voice.web import ats, candidate, intake_hook, operations, outreach, phone, reports, rtc, workspace
from milo_voice.web.accommodation_candidate import routes as accommodation_routes
from milo_voice.web.body_limit import BodyLimit
from milo_voice.web.privacy_candidate import routes as privacy_routes
from milo_voice.web.security_headers import SecurityHeaders

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def foundation_routes() -> list[BaseRoute]:
    return [Route("/healthz", health), *operations.routes()]  # liveness; readiness, metrics (issue 21)


def create_app(
    settings: Settings, engine: DbEngine, runtime: LazyRuntime | None = None, *, now: Clock = utc_now
) -> Starlette:
    routes: list[BaseRoute] = []
    routes += foundation_routes()
    routes += privacy_routes()  # first: /i/erase/{code} and /i/{token}/privacy/* (docs/compliance.md)
    routes += candidate.routes() + rtc.routes()  # before workspace's Mount("/api"), which takes all /api/*
    routes += accommodation_routes()  # the accommodation request and the written path (/i/{token}/...)
    routes += workspace.routes()
    routes += phone.routes()
    routes += outreach.routes()
    routes += reports.routes()
    routes += intake_hook.routes()
    routes += ats.routes()
    middleware = [  # outermost first: a 413 from BodyLimit gets the security headers too
        Middleware(SecurityHeaders, https=settings.base_url.startswith("https://")),
        Middleware(BodyLimit, settings=settings),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.settings = settings
    app.state.engine = engine
    app.state.now = now
    app.state.runtime = runtime if runtime is not None else LazyRuntime(settings)
    return app
