"""Browser call signalling and the live calls of this process: offer -> answer, end, resume.

POST /api/rtc/{token}/offer answers an SDP offer (JSON `{sdp, type: "offer", consent: true,
notice_version: N}`), within the per-address limits of `candidate_limits.py` (offers a minute, live
calls at once). The first offer of a link starts a call (`calls/webrtc.py`): once the peer connects,
the interview runs on its `WebRtcTransport`. Starting a call is the candidate's consent: it is stored
(channel web, the client's address and User-Agent, the notice version and its text's SHA-256) once
the offer is accepted; an offer whose `notice_version` is not the current notice's (or is missing:
we could not tell which text the candidate saw) is refused with 409 and records nothing.
While that call lives, another offer from the same link swaps the peer in place (a reload, a dropped
network) and the same `InterviewSession` goes on: same question, same recording, under the consent
its start recorded (a reconnect is neither checked against the notice nor recorded again). The call
ends when the interview completes, on POST /api/rtc/{token}/end or the page's end button, or
`MILO_RESUME_WINDOW` seconds after its peer went away. Calls live in memory: a live interview stays
on the process that holds its media (sticky routing when several run). A new call (never a reconnect)
on a node that is full (`MILO_MAX_LIVE_CALLS`) or draining (SIGTERM) gets 503 with Retry-After
(`web/operations.py`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.calls.webrtc import LiveCall, LiveCalls, run_call, wire
from milo_voice.errors import ProtocolViolation
from milo_voice.media.transports.webrtc import WebRtcTransport
from milo_voice.media.transports.webrtc_offer import RTCSessionDescription, parse_offer
from milo_voice.settings import Settings
from milo_voice.store.tables import ConsentChannel
from milo_voice.web import notice as notices
from milo_voice.web.candidate_limits import client_host, log_refusal, public_limits, too_many_json
from milo_voice.web.operations import capacity, refused_json
from milo_voice.web.repos import repo, sessions
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import Notice, StaleNotice

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 100_000
"""Largest offer request accepted (the SDP itself is capped lower, see `MAX_SDP_BYTES`)."""


def live_calls(app: Starlette) -> LiveCalls:
    """The app's call registry (made on first use; `create_app` knows nothing of it)."""
    calls: LiveCalls | None = getattr(app.state, "rtc_calls", None)
    if calls is None:
        calls = LiveCalls()
        app.state.rtc_calls = calls
    return calls


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise ProtocolViolation(f"request body over {MAX_BODY_BYTES} bytes")
    raw = b""
    async for piece in request.stream():
        raw += piece
        if len(raw) > MAX_BODY_BYTES:
            raise ProtocolViolation(f"request body over {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolViolation("the body is not JSON") from None


END_WAIT = 10.0
"""Seconds the end route waits for the session to be stored before answering."""


async def offer(request: Request) -> Response:
    """Answer an offer. Rate-limited per client address before anything else (`candidate_limits.py`):
    too many offers a minute, or a new call while the address holds too many live ones, is a 429."""
    settings: Settings = request.app.state.settings
    token, host, limits = request.path_params["token"], client_host(request), public_limits(request)
    refusal = limits.offer(host)  # before the link is looked up or the body read
    if refusal is not None:
        log_refusal("rtc_offer", refusal)
        return too_many_json(refusal)
    found = await run_in_threadpool(repo(request, Candidates).link, token)
    if found is None or found[0].id is None:
        return _error(404, "This interview link is not valid.")
    candidate, state = found
    calls = live_calls(request.app)
    if not state.open and calls.live(token) is None:
        return _error(410, state.message)  # a closed link: nothing to negotiate
    parsed = await _parse(request)
    if isinstance(parsed, Response):
        return parsed
    body, description = parsed
    notice = await notices.current_notice(request)  # checked again, atomically, when the consent is stored
    async with calls.lock(token):
        call = calls.live(token)
        fresh = call is None
        if call is None:
            if not state.open:
                return _error(410, state.message)
            if not _agreed_to_current(body.get("notice_version"), notice, candidate.id):
                return _error(409, notices.STALE)
            busy = capacity(request.app).refuse("web")  # node full or draining: a reconnect never is
            if busy is not None:
                return refused_json(busy)
            refusal = limits.start_call(host, token)  # before the transport is built
            if refusal is not None:
                log_refusal("rtc_offer", refusal, candidate_id=candidate.id)
                return too_many_json(refusal)
            transport = WebRtcTransport(
                ice_servers=settings.ice_server_list, resume_window=settings.resume_window
            )
            call = LiveCall(token, candidate.id, candidate.interview_id, transport)
            wire(call)
            capacity(request.app).enter("web", _ender(call), key=id(call))  # live until its task ends
        try:
            answer = await call.transport.accept(description)
        except ProtocolViolation as exc:
            if fresh:
                _release(request, host, call)
                await call.transport.close()
            return _error(400, str(exc))
        except BaseException:
            if fresh:
                _release(request, host, call)  # no call was started: its place is free again
            raise
        if fresh:
            refused = await _consent(request, call, notice, host)
            if refused is not None:
                return refused
            _start(request, calls, call, host)
    log.info("rtc.offer_answered", extra={"candidate_id": candidate.id, "resumed": int(not fresh)})
    return JSONResponse({"sdp": answer.sdp, "type": answer.type, "resumed": not fresh})


async def _parse(request: Request) -> tuple[dict[str, Any], RTCSessionDescription] | Response:
    """The offer's JSON and session description, or the 400 that refuses it (consent is required)."""
    try:
        body = await _json_body(request)
        description = parse_offer(body)
    except ProtocolViolation as exc:
        return _error(400, str(exc))
    if body.get("consent") is not True:
        return _error(400, "The candidate has not agreed to the recording ('consent': true is required).")
    return body, description


async def _consent(request: Request, call: LiveCall, notice: Notice, host: str) -> Response | None:
    """Store the consent that starting this call gives; if it cannot be stored, the call does not start
    (its place and peer are released) and the answer is the 409 of a changed notice, or the error."""
    try:
        await notices.record(request, call.candidate_id, ConsentChannel.WEB, notice)
    except BaseException as exc:
        _release(request, host, call)
        await call.transport.close()
        if isinstance(exc, StaleNotice):  # the notice changed while the offer was answered
            return _error(409, notices.STALE)
        raise
    return None


def _start(request: Request, calls: LiveCalls, call: LiveCall, host: str) -> None:
    """Register the call and run its interview; its end frees its places (per address, on the node)."""
    calls.by_token[call.token] = call
    runtime, store = request.app.state.runtime.get, sessions(request)
    call.task = asyncio.ensure_future(run_call(
        calls, call, settings=request.app.state.settings, runtime=runtime, store=store))
    call.task.add_done_callback(lambda _: _release(request, host, call))


def _release(request: Request, host: str, call: LiveCall) -> None:
    """The call is over (or never started): its place per address and on the node are free again."""
    public_limits(request).end_call(host, call.token)
    capacity(request.app).leave(id(call))


def _ender(call: LiveCall) -> Callable[[], Awaitable[None]]:
    """Ends the call as the end button does (the drain's deadline): its session stores its end."""

    async def end_call() -> None:
        await call.transport.close()
        if call.task is not None:
            await asyncio.wait({call.task}, timeout=END_WAIT)

    return end_call


def _agreed_to_current(sent: object, notice: Notice, candidate_id: int) -> bool:
    """The offer names the current notice version (a JSON integer; `true` is not 1); else it is logged."""
    same = isinstance(sent, int) and not isinstance(sent, bool) and sent == notice.version
    if not same:
        log.info("rtc.stale_notice", extra={"candidate_id": candidate_id, "current": notice.version,
                                            "sent": str(sent)[:20]})
    return same


async def end(request: Request) -> Response:
    token = request.path_params["token"]
    if await run_in_threadpool(repo(request, Candidates).by_token, token) is None:
        return _error(404, "This interview link is not valid.")
    call = live_calls(request.app).live(token)
    if call is None:
        return JSONResponse({"ended": False, "reason": "no live call on this link"})
    await call.transport.close()
    if call.task is not None:  # let the session store its end, so the next page shows the status
        done, _ = await asyncio.wait({call.task}, timeout=END_WAIT)  # its failures are logged by the task
        if not done:
            log.warning("rtc.end_not_settled", extra={"candidate_id": call.candidate_id})
    return JSONResponse({"ended": True})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/rtc/{token}/offer", offer, methods=["POST"]),
        Route("/api/rtc/{token}/end", end, methods=["POST"]),
    ]
