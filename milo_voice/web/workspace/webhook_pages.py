"""Settings > Webhooks (admins only): endpoints, their secrets, and the delivery log.

The secret is made on the server and shown once, on the page that answers the creation (like an
API key); afterwards only the receiver and the database know it. Every change is audited, with
the URL but never the secret. A "send test event" button queues a signed `webhook.test` delivery
to that endpoint alone, through the same worker, retries and log as real events.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.scoring import webhooks
from milo_voice.scoring.service import TEST_EVENT, send_test_event
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.webhook_admin import WebhookAdmin

BASE = "/app/settings/webhooks"
HEADERS = {
    "event": webhooks.EVENT_HEADER,
    "delivery": webhooks.DELIVERY_HEADER,
    "timestamp": webhooks.TIMESTAMP_HEADER,
    "signature": webhooks.SIGNATURE_HEADER,
    "tolerance": int(webhooks.DEFAULT_TOLERANCE),
}


def _admin(request: Request) -> WebhookAdmin:
    return repo(request, WebhookAdmin)


def _eid(request: Request) -> int:
    return int(request.path_params["eid"])


async def _list(request: Request, status: int = 200, **context: Any) -> Response:
    endpoints = await run_in_threadpool(_admin(request).endpoints)
    defaults = {"url": "", "chosen": list(webhooks.EVENTS)}
    return render(
        request,
        "webhooks.html",
        {"endpoints": endpoints, "events": webhooks.EVENTS, "headers": HEADERS, **defaults, **context},
        status,
    )


@page(UserRole.ADMIN)
async def list_endpoints(request: Request) -> Response:
    return await _list(request)


@page(UserRole.ADMIN)
async def create_endpoint(request: Request) -> Response:
    form = await request.form()
    url, chosen = str(form.get("url", "")), [str(e) for e in form.getlist("events")]
    try:
        allow, admin = request.app.state.settings.webhook_allow_private_targets, _admin(request)
        row, secret = await run_in_threadpool(lambda: admin.create(url, chosen, allow_private=allow))
    except Invalid as exc:
        return await _list(request, 400, error=str(exc), url=url, chosen=chosen)
    await run_in_threadpool(
        lambda: workspace(request).audit.record(
            who(request), "create", "webhook", row.id, url=row.url[:200], events=row.events
        )
    )
    return await _list(request, 201, created=row, secret=secret)


@page(UserRole.ADMIN)
async def show_endpoint(request: Request) -> Response:
    admin, eid = _admin(request), _eid(request)
    endpoint = await run_in_threadpool(admin.get, eid)
    raw = request.query_params.get("page", "1")
    log = await run_in_threadpool(lambda: admin.deliveries(eid, page=int(raw) if raw.isdigit() else 1))
    return render(
        request,
        "webhook.html",
        {"endpoint": endpoint, "log": log, "headers": HEADERS, "test_event": TEST_EVENT, "base": BASE},
    )


@page(UserRole.ADMIN)
async def set_active(request: Request) -> Response:
    eid = _eid(request)
    active = str((await request.form()).get("active", "")) == "1"
    await run_in_threadpool(_admin(request).set_active, eid, active)
    await run_in_threadpool(
        workspace(request).audit.record, who(request), "enable" if active else "disable", "webhook", eid
    )
    return RedirectResponse(f"{BASE}/{eid}", status_code=303)


@page(UserRole.ADMIN)
async def delete_endpoint(request: Request) -> Response:
    admin, eid = _admin(request), _eid(request)
    endpoint = await run_in_threadpool(admin.get, eid)
    await run_in_threadpool(admin.delete, eid)
    await run_in_threadpool(
        lambda: workspace(request).audit.record(
            who(request), "delete", "webhook", eid, url=endpoint.url[:200]
        )
    )
    return RedirectResponse(BASE, status_code=303)


@page(UserRole.ADMIN)
async def send_test(request: Request) -> Response:
    eid, ws = _eid(request), workspace(request)
    await run_in_threadpool(_admin(request).get, eid)  # 404 for an unknown endpoint
    delivery_id = await run_in_threadpool(send_test_event, ws.settings, request.app.state.engine, eid)
    await run_in_threadpool(
        lambda: ws.audit.record(who(request), "test", "webhook", eid, delivery=delivery_id)
    )
    return RedirectResponse(f"{BASE}/{eid}", status_code=303)


def routes() -> list[BaseRoute]:
    one = "/settings/webhooks/{eid:int}"
    return [
        Route("/settings/webhooks", list_endpoints),
        Route("/settings/webhooks", create_endpoint, methods=["POST"]),
        Route(one, show_endpoint),
        Route(f"{one}/active", set_active, methods=["POST"]),
        Route(f"{one}/delete", delete_endpoint, methods=["POST"]),
        Route(f"{one}/test", send_test, methods=["POST"]),
    ]
