"""Candidates by place (`workspace/places.py`): one interview's candidates grouped by country, then
by city or area. Readable by the whole team."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from milo_voice.web.workspace.auth import page
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace import places
from milo_voice.workspace.candidates import CandidateQuery

MAX_CANDIDATES = 10_000


@page()
async def places_page(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    interview = await run_in_threadpool(ws.interviews.latest, slug)
    rows = await run_in_threadpool(ws.candidates.search, CandidateQuery(slug=slug, limit=MAX_CANDIDATES))
    names = {r.candidate.id or 0: r.candidate.name for r in rows}
    countries = places.group([(r.candidate.id or 0, r.candidate.location, r.candidate.phone) for r in rows],
                             ws.settings.default_region)
    return render(request, "places.html", {"interview": interview, "countries": countries, "names": names,
                                           "total": len(rows)})


def routes() -> list[BaseRoute]:
    return [Route("/interviews/{slug}/places", places_page)]
