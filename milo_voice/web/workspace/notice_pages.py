"""Settings > Notice (admins only): the AI-use and data notice candidates see, and its versions.

Saving the text adds a version (`workspace/consent.py`); from then on every candidate page, the public
notice page and new SMS interviews show it, and an offer or form still showing an older version is
refused until the candidate reloads. Every save is an audit event (`edit notice`, with the new version,
the previous one and the text's SHA-256). The candidate profile's consents come from `consent_context`.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.repo import Invalid
from milo_voice.store.tables import ConsentChannel, UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.consent import MAX_NOTICE_CHARS, SMS_NOTICE, Consents, Notices, spoken_notice

BASE = "/app/settings/notice"
CHANNELS = {
    ConsentChannel.WEB.value: "browser interview",
    ConsentChannel.PHONE.value: "phone call",
    ConsentChannel.SMS.value: "SMS interview",
    ConsentChannel.FORM.value: "form or upload in the browser",
}
"""How the profile names each consent channel."""


async def _page(request: Request, status: int = 200, **context: Any) -> Response:
    base = workspace(request).settings.base_url
    history = await run_in_threadpool(repo(request, Notices).history, base)
    current = history[0]
    defaults = {"text": current.text, "current": current, "history": history, "max_chars": MAX_NOTICE_CHARS,
                "spoken": spoken_notice(base), "sms": SMS_NOTICE.format(url=f"{base}/notice?version=N")}
    return render(request, "notice_settings.html", {**defaults, **context}, status)


@page(UserRole.ADMIN)
async def show(request: Request) -> Response:
    saved = request.query_params.get("saved", "")
    notice = f"Saved: candidates now see version {saved}." if saved.isdigit() else ""
    return await _page(request, notice=notice)


@page(UserRole.ADMIN)
async def save(request: Request) -> Response:
    text = str((await request.form()).get("text", ""))
    me, ws = who(request), workspace(request)
    notices = repo(request, Notices)
    previous = await run_in_threadpool(notices.current, ws.settings.base_url)
    try:
        saved = await run_in_threadpool(notices.save, text, me.user_id, ws.settings.base_url)
    except Invalid as exc:
        return await _page(request, 400, error=str(exc), text=text)
    await run_in_threadpool(lambda: ws.audit.record(
        me, "edit", "notice", saved.version, version=saved.version, previous=previous.version,
        sha256=saved.sha256, chars=len(saved.text)))
    return RedirectResponse(f"{BASE}?saved={saved.version}", status_code=303)


async def consent_context(request: Request, candidate_id: int) -> dict[str, object]:
    """The profile's consent card (`recruiter/_consent.html`): every consent, oldest first."""
    rows = await run_in_threadpool(repo(request, Consents).consents_of, candidate_id)
    return {"consents": rows, "consent_channels": CHANNELS}


def routes() -> list[BaseRoute]:
    return [
        Route("/settings/notice", show),
        Route("/settings/notice", save, methods=["POST"]),
    ]
