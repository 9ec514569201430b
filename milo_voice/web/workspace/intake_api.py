"""Bulk intake over the API: many candidates in one request, each added or (by `external_id`) updated.

Every entry is handled on its own: one malformed email does not refuse the others. The answer lists
one result per entry, in order, with the candidate (and whether it was created) or the error.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.repo import Invalid
from milo_voice.store.tables import CandidateSource, UserRole
from milo_voice.web.workspace.api import body, candidate_fields, candidate_json
from milo_voice.web.workspace.auth import api, who
from milo_voice.web.workspace.services import workspace

MAX_BULK = 1000
"""Entries in one bulk request (a bigger list goes in several requests)."""


@api(UserRole.ADMIN)
async def add_candidates(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    entries = (await body(request)).get("candidates")
    if not isinstance(entries, list) or not entries:
        raise Invalid('send {"candidates": [{"name": ..., "email": ..., "external_id": ...}, ...]}')
    if len(entries) > MAX_BULK:
        raise Invalid(f"{len(entries)} candidates in one request: send at most {MAX_BULK} at a time")
    interview = await run_in_threadpool(ws.interviews.latest_published, slug)
    if interview is None:
        raise Invalid(f"interview {slug!r} has no published version; publish it first")
    results: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict):
                raise Invalid("each entry must be a JSON object")
            fields = candidate_fields(entry)
            row, created = await run_in_threadpool(lambda f=fields: ws.candidates.put(  # type: ignore[misc]
                slug=slug, source=CandidateSource.API, region=ws.settings.default_region, **f))
        except Invalid as exc:
            results.append({"index": index, "error": str(exc)})
            continue
        _, version = await run_in_threadpool(ws.candidates.get, row.id)
        results.append({"index": index, "created": created,
                        "candidate": candidate_json(request, row, version)})
    added = [r["candidate"]["id"] for r in results if r.get("created")]
    updated = [r["candidate"]["id"] for r in results if r.get("created") is False]
    await run_in_threadpool(lambda: ws.audit.record(who(request), "bulk_add", "interview", slug, added=added,
                                                    updated=updated))
    return JSONResponse({"added": len(added), "updated": len(updated),
                         "failed": sum(1 for r in results if "error" in r), "results": results})


def routes() -> list[BaseRoute]:
    return [Route("/interviews/{slug}/candidates/bulk", add_candidates, methods=["POST"])]
