"""What an operator's tools ask a node: `/readyz` (does it take new calls?) and `/metrics` (Prometheus).

`/healthz` (web/app.py) is liveness: the process answers. `/readyz` is readiness: 200 while the
node takes new calls, 503 with the reason (`full`: `MILO_MAX_LIVE_CALLS` calls are live;
`draining`: SIGTERM was received, `web/server.py`) so a load balancer sends new candidates
elsewhere while the live calls go on. `/metrics` is the text exposition of `observability.py`,
with the job table's depth read at scrape time; it shows counts only, never a candidate. With
`MILO_METRICS_TOKEN` set it needs `Authorization: Bearer <token>`; unset, it answers only a client
on loopback that no proxy relayed (a relayed request carries X-Forwarded-For or Forwarded).
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice import observability as metrics
from milo_voice.calls.capacity import DRAINING, RETRY_AFTER_S, Capacity, Drain
from milo_voice.scoring.job_table import JobTable
from milo_voice.settings import Settings

REFUSED = {
    "full": "Every interviewer on this server is busy right now. Please try again in a minute.",
    "draining": "This server is restarting. Please try again in a minute.",
}
"""What a candidate whose new call was refused is told (the WebRTC offer's 503)."""


def capacity(app: Starlette) -> Capacity:
    """The app's live-call count and drain (made on first use from its settings)."""
    found: Capacity | None = getattr(app.state, "capacity", None)
    if found is None:
        settings: Settings = app.state.settings
        found = Capacity(settings.max_live_calls, Drain(settings.drain_timeout_s))
        app.state.capacity = found
    return found


def refused_json(reason: str) -> Response:
    """The 503 of a new call the node cannot take (full or draining), with Retry-After."""
    return JSONResponse(
        {"error": REFUSED.get(reason, REFUSED["full"]), "reason": reason, "retry_after": RETRY_AFTER_S},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def ready(request: Request) -> Response:
    node = capacity(request.app)
    reason = node.refusal()
    body: dict[str, object] = {
        "status": "ready" if reason is None else "not ready",
        "live_calls": node.total,
        "max_live_calls": node.max_live,
    }
    if reason is None:
        return JSONResponse(body)
    body["reason"] = reason
    if reason == DRAINING:
        body["drain_remaining_s"] = round(node.drain.remaining(time.monotonic()), 1)
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


def _local(request: Request) -> bool:
    """The socket's peer is loopback and no proxy relayed the request."""
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    host = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _allowed(request: Request, token: str) -> Response | None:
    """None when the scrape may read the metrics, else its 401 or 403."""
    if token:
        sent = request.headers.get("authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return None
        return PlainTextResponse(
            "metrics need Authorization: Bearer <MILO_METRICS_TOKEN>",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if _local(request):
        return None
    return PlainTextResponse(
        "metrics answer loopback only; set MILO_METRICS_TOKEN to scrape from elsewhere (docs/deploy.md)",
        status_code=403,
    )


async def scrape(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    refused = _allowed(request, str(settings.metrics_token))
    if refused is not None:
        return refused
    capacity(request.app)  # the capacity gauges are set once the node has a count
    jobs = await run_in_threadpool(JobTable(request.app.state.engine).depth)
    return Response(metrics.render(jobs), media_type=metrics.CONTENT_TYPE)


def routes() -> list[BaseRoute]:
    return [Route("/readyz", ready), Route("/metrics", scrape)]
