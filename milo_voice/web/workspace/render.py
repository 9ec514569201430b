"""Rendering recruiter pages: the Jinja2 environment (autoescaped), shared context and filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from milo_voice.scoring.report import clock as report_clock
from milo_voice.web.workspace.csrf import csrf_token
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace import public_url
from milo_voice.workspace.candidates import STATUSES

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
STATIC = Path(__file__).resolve().parents[1] / "static" / "recruiter"
templates = Jinja2Templates(directory=str(TEMPLATES))
assert templates.env.autoescape, "recruiter pages show candidate-provided text: autoescape must stay on"


def when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def clock(seconds: float | None) -> str:
    """`m:ss`, the same as the report's (`scoring.report.clock`: whole seconds, as players show)."""
    return "-" if seconds is None else report_clock(seconds)


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


templates.env.filters.update(when=when, clock=clock, status_label=status_label)
templates.env.globals.update(urlencode=urlencode, STATUSES=STATUSES)


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> Response:
    settings = workspace(request).settings
    ctx = {
        "me": getattr(request.state, "principal", None),
        "csrf": csrf_token(request),
        "base_url": settings.base_url,
        "public_url_warning": public_url.warning(settings),
        **(context or {}),
    }
    return templates.TemplateResponse(request, f"recruiter/{name}", ctx, status_code=status)
