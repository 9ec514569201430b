"""The Starlette application: the composition root for HTTP. Nothing imports `web`.

Foundation pages only: a health check, the operator's index of interviews and candidate links,
and each candidate's landing page. Live channels (WebRTC, phone) plug in here.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from milo_voice.settings import Settings
from milo_voice.store import Store

TEMPLATES = Path(__file__).parent / "templates"


def create_app(settings: Settings, store: Store) -> Starlette:
    templates = Jinja2Templates(directory=str(TEMPLATES))

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def candidate_page(request: Request) -> Response:
        token = request.path_params["token"]
        candidate = await run_in_threadpool(store.candidate_by_token, token)
        if candidate is None:
            return HTMLResponse("<h1>This interview link is not valid.</h1>", status_code=404)
        script = await run_in_threadpool(store.script_for, candidate.interview_id)
        return templates.TemplateResponse(
            request, "candidate.html", {"candidate": candidate, "script": script}
        )

    routes = [
        Route("/healthz", health),
        Route("/i/{token}", candidate_page),
    ]
    app = Starlette(routes=routes)
    app.state.settings = settings
    app.state.store = store
    return app
