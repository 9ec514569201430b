"""Settings > Phone numbers (admins only): which Twilio number reaches which interview, with add and
remove; and "Call now" on a candidate's profile, which rings the candidate through Twilio.

Handlers parse the form, call `calls.phone` (`PhoneNumbers`, `place_call`) and audit the change.
A call that cannot be placed answers a page with the reason (400 for our setup, 502 when Twilio
refused or was unreachable); its call row says failed with the same reason either way.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.phone.outbound import outbound_enabled, place_call, status_callback_url
from milo_voice.calls.phone.twilio_rest import OutboundCallFailed
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import Candidate, UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace

BASE = "/app/settings/phone"


async def _list(request: Request, status: int = 200, **context: Any) -> Response:
    ws = workspace(request)
    numbers = await run_in_threadpool(ws.phone_numbers.mapped)
    choices = await run_in_threadpool(ws.phone_numbers.choices)
    added = request.query_params.get("added", "")
    just_added = next((m for m in numbers if m.number == added), None)
    defaults: dict[str, Any] = {
        "number": "",
        "slug": "",
        "notice": f"{just_added.display} now reaches {just_added.title} (version {just_added.version})."
        if just_added
        else "",
    }
    return render(
        request,
        "phone_numbers.html",
        {
            "numbers": numbers,
            "choices": choices,
            "voice_url": f"{ws.settings.base_url}/phone/voice",
            "status_url": status_callback_url(ws.settings),
            "outbound": outbound_enabled(ws.settings),
            "caller_id": ws.settings.twilio_caller_id,
            "public_url_set": bool(ws.settings.public_url),
            **defaults,
            **context,
        },
        status,
    )


@page(UserRole.ADMIN)
async def list_numbers(request: Request) -> Response:
    return await _list(request)


@page(UserRole.ADMIN)
async def add_number(request: Request) -> Response:
    ws = workspace(request)
    form = await request.form()
    number, slug = str(form.get("number", "")), str(form.get("interview", ""))
    try:
        mapped = await run_in_threadpool(ws.phone_numbers.add, number, slug)
    except (Invalid, NotFound) as exc:
        return await _list(request, 400, error=str(exc), number=number, slug=slug)
    await run_in_threadpool(
        lambda: ws.audit.record(
            who(request), "create", "phone_number", mapped.number,
            interview=mapped.slug, version=mapped.version,
        )
    )
    return RedirectResponse(f"{BASE}?added={mapped.number.replace('+', '%2B')}", status_code=303)


@page(UserRole.ADMIN)
async def remove_number(request: Request) -> Response:
    ws = workspace(request)
    number = str((await request.form()).get("number", ""))
    removed = await run_in_threadpool(ws.phone_numbers.remove, number)  # NotFound: 404
    await run_in_threadpool(
        lambda: ws.audit.record(
            who(request), "delete", "phone_number", removed.number,
            interview=removed.slug, version=removed.version,
        )
    )
    return RedirectResponse(BASE, status_code=303)


@page(UserRole.ADMIN)
async def call_now(request: Request) -> Response:
    """Ring the candidate now; back to their profile, or a page saying why the call was not placed."""
    ws, cid = workspace(request), int(request.path_params["cid"])
    candidate, _ = await run_in_threadpool(ws.candidates.get, cid)  # NotFound: 404
    try:
        call_id, sid = await place_call(ws.settings, repo(request, PhoneStore), cid)
    except OutboundCallFailed as exc:
        return await _call_failed(request, candidate, exc)
    await run_in_threadpool(
        lambda: ws.audit.record(who(request), "call", "candidate", cid, phone_call=call_id, call_sid=sid)
    )
    return RedirectResponse(f"/app/candidates/{cid}#phone", status_code=303)


async def _call_failed(request: Request, candidate: Candidate, failure: OutboundCallFailed) -> Response:
    """Audit the failed attempt and say why: 400 for our setup, 502 when Twilio refused or was down."""
    ws, reason = workspace(request), str(failure)
    await run_in_threadpool(
        lambda: ws.audit.record(
            who(request), "call", "candidate", candidate.id,
            phone_call=failure.call_id, outcome="failed", reason=reason[:200],
        )
    )
    setup = failure.cause == "setup"
    context = {"candidate": candidate, "reason": reason, "setup": setup}
    return render(request, "phone_call_failed.html", context, 400 if setup else 502)


def routes() -> list[BaseRoute]:
    return [
        Route("/settings/phone", list_numbers),
        Route("/settings/phone", add_number, methods=["POST"]),
        Route("/settings/phone/remove", remove_number, methods=["POST"]),
        Route("/candidates/{cid:int}/call", call_now, methods=["POST"]),
    ]
