"""The routes an ATS calls (docs/intake_ats.md): Greenhouse Assessment Partner under /ats/greenhouse/
(list_tests, send_test, test_status, response_error; HTTP Basic with the organisation's key) and the
Workable assessment provider under /ats/workable/ (GET tests, POST assessments; bearer token).

The credential is checked before the body is read; bodies are capped at 64 kB; a malformed request
gets a 400 naming the field, an unknown test or order a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.intake import ats_greenhouse as gh
from milo_voice.intake import ats_workable as wk
from milo_voice.intake.ats_types import GREENHOUSE, MAX_BODY, WORKABLE, ProtocolError
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.ats import Ats

log = logging.getLogger(__name__)


def _ats(request: Request) -> Ats:
    state = request.app.state
    return Ats(state.engine, workspace(request).settings, now=state.now)


def _error(provider: str, status: int, message: str) -> Response:
    greenhouse = provider == GREENHOUSE
    body: dict[str, Any] = gh.error_body(message) if greenhouse else wk.error_body(status, message)
    challenge = 'Basic realm="milo-voice"' if greenhouse else "Bearer"
    headers = {"WWW-Authenticate": challenge} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _body(request: Request) -> bytes:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise ProtocolError(f"body over {MAX_BODY} bytes")
    return raw


def _endpoint(provider: str, handler: Any) -> Any:
    """Authenticate as `provider` expects, then run `handler(request, ats)`; map errors to answers."""

    async def endpoint(request: Request) -> Response:
        header = request.headers.get("authorization")
        presented = gh.basic_auth_key(header) if provider == GREENHOUSE else wk.bearer_token(header)
        ats = _ats(request)
        if not await run_in_threadpool(ats.authorised, provider, presented):
            return _error(provider, 401, "a valid key is required (the milo-voice ATS settings page)")
        try:
            return JSONResponse(await handler(request, ats))
        except ProtocolError as exc:
            return _error(provider, 400, str(exc))
        except NotFound as exc:
            return _error(provider, 404, str(exc))
        except Invalid as exc:
            return _error(provider, 422, str(exc))

    return endpoint


async def gh_list_tests(request: Request, ats: Ats) -> Any:
    return gh.list_tests_body(await run_in_threadpool(ats.offers))


async def gh_send_test(request: Request, ats: Ats) -> Any:
    order = gh.parse_send_test(await _body(request))
    return gh.send_test_response(await run_in_threadpool(ats.take, order))


async def gh_test_status(request: Request, ats: Ats) -> Any:
    partner_id = request.query_params.get("partner_interview_id", "")
    if not partner_id:
        raise ProtocolError("test_status: partner_interview_id is missing")
    return gh.test_status_body(await run_in_threadpool(ats.result, GREENHOUSE, partner_id))


async def gh_response_error(request: Request, ats: Ats) -> Any:
    report = gh.parse_response_error(await _body(request))
    log.warning("ats.greenhouse_refused_our_answer", extra={"api_call": report.api_call,
                                                           "errors": report.errors[:5]})
    return {}


async def wk_tests(request: Request, ats: Ats) -> Any:
    return wk.tests_body(await run_in_threadpool(ats.offers))


async def wk_assessments(request: Request, ats: Ats) -> Any:
    order = wk.parse_assessment(await _body(request))
    return wk.assessment_response(await run_in_threadpool(ats.take, order))


def routes() -> list[BaseRoute]:
    return [
        Route("/ats/greenhouse/list_tests", _endpoint(GREENHOUSE, gh_list_tests)),
        Route("/ats/greenhouse/send_test", _endpoint(GREENHOUSE, gh_send_test), methods=["POST"]),
        Route("/ats/greenhouse/test_status", _endpoint(GREENHOUSE, gh_test_status)),
        Route("/ats/greenhouse/response_error", _endpoint(GREENHOUSE, gh_response_error), methods=["POST"]),
        Route("/ats/workable/tests", _endpoint(WORKABLE, wk_tests)),
        Route("/ats/workable/assessments", _endpoint(WORKABLE, wk_assessments), methods=["POST"]),
    ]
