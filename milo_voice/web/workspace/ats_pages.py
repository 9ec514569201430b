"""The ATS settings page (admins): the key Greenhouse uses (both ways), the token Workable sends us,
and the token Workable issued for our result callbacks. See docs/intake_ats.md."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.tables import UserRole
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.ats import SECRETS, WORKABLE_CALLBACK


@page(UserRole.ADMIN)
async def show(request: Request) -> Response:
    ws = workspace(request)
    stored = {name: await run_in_threadpool(ws.accounts.stored_secret, secret)
              for name, secret in (*SECRETS.items(), ("workable_callback", WORKABLE_CALLBACK))}
    return render(request, "ats_settings.html", {"stored": stored, "base": ws.settings.base_url,
                                                 "saved": request.query_params.get("saved", "")})


@page(UserRole.ADMIN)
async def save(request: Request) -> Response:
    ws = workspace(request)
    form = await request.form()
    action = str(form.get("action", ""))
    if action in ("rotate_greenhouse", "rotate_workable"):
        provider = action.removeprefix("rotate_")
        await run_in_threadpool(ws.accounts.rotate_secret, SECRETS[provider])
        await run_in_threadpool(ws.audit.record, who(request), "ats_key", "settings", provider, rotated=True)
    elif action == "workable_callback":
        token = str(form.get("token", "")).strip()
        await run_in_threadpool(ws.accounts.set_secret, WORKABLE_CALLBACK, token)
        await run_in_threadpool(ws.audit.record, who(request), "ats_key", "settings", "workable_callback",
                                cleared=not token)
    else:
        return RedirectResponse("/app/settings/ats", status_code=303)
    return RedirectResponse(f"/app/settings/ats?saved={action}", status_code=303)


def routes() -> list[BaseRoute]:
    return [Route("/settings/ats", show), Route("/settings/ats", save, methods=["POST"])]
