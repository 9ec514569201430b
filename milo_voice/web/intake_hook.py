"""The signed inbound webhook that adds candidates from any system (Lever stage-change automations,
Zapier-style flows): `POST /intake/hooks/{slug}`.

The body is JSON, one candidate (`{"name", "email", "phone", "location", "external_id"}`) or many
(`{"candidates": [...]}`), signed with the interview's secret (shown on its bulk-intake page) the way
our outbound webhooks are: `X-Milo-Timestamp` (Unix seconds) and `X-Milo-Signature: sha256=<hex HMAC
of "timestamp." + body>`. Unsigned, badly signed or stale requests get 401 before the body is used;
the body is capped at 1 MB. With an `external_id`, sending the same candidate again updates them
(a retried or replayed delivery never duplicates anyone).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.intake.hooks import IntakeHooks
from milo_voice.scoring.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import CandidateSource
from milo_voice.web.repos import repo
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
MAX_ENTRIES = 1000
FIELDS = ("name", "email", "phone", "location", "external_id")


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def _read(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            return None
    return raw


async def inbound(request: Request) -> Response:
    slug = request.path_params["slug"]
    stamp, signature = request.headers.get(TIMESTAMP_HEADER, ""), request.headers.get(SIGNATURE_HEADER, "")
    if not stamp or not signature:
        return _error(401, f"sign the request: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} (docs/intake.md)")
    raw = await _read(request)
    if raw is None:
        return _error(413, f"body over {MAX_BODY} bytes")
    if not await run_in_threadpool(repo(request, IntakeHooks).verify, slug, stamp, signature, raw):
        log.warning("intake.hook_refused", extra={"interview": slug})
        return _error(401, "bad or stale signature (the timestamp must be within 5 minutes)")
    try:
        entries = _entries(json.loads(raw))
    except (ValueError, Invalid) as exc:
        return _error(400, str(exc))
    results = [await run_in_threadpool(_add, request, slug, entry) for entry in entries]
    added = [r["id"] for r in results if r.get("created")]
    updated = [r["id"] for r in results if r.get("created") is False]
    await run_in_threadpool(lambda: repo(request, Audit).record(
        None, "hook_add", "interview", slug, added=added, updated=updated))
    return JSONResponse({"added": len(added), "updated": len(updated), "results": results})


def _entries(data: Any) -> list[dict[str, Any]]:
    entries = data.get("candidates", [data]) if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise Invalid('send a candidate object, or {"candidates": [...]}')
    if len(entries) > MAX_ENTRIES:
        raise Invalid(f"at most {MAX_ENTRIES} candidates per request")
    return entries


def _add(request: Request, slug: str, entry: dict[str, Any]) -> dict[str, Any]:
    settings = request.app.state.settings
    fields = {k: str(entry.get(k) or "") for k in FIELDS}
    try:
        row, created = repo(request, Candidates).put(slug=slug, source=CandidateSource.API,
                                                     region=settings.default_region, **fields)
    except Invalid as exc:
        return {"external_id": fields["external_id"], "error": str(exc)}
    return {"id": row.id, "created": created, "external_id": row.external_id,
            "link": f"{settings.base_url}/i/{row.token}"}


def routes() -> list[BaseRoute]:
    return [Route("/intake/hooks/{slug}", inbound, methods=["POST"])]
