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
on the process that holds its media. With several nodes (`web/node_routing.py`), an offer or end that
reaches a node which does not hold the call is forwarded to the node that does (or, for a new call, to
the node with the most room); when that node does not answer, this node takes the interview over and
goes on at the current question (`calls/takeover.py`). A new call (never a reconnect)
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

from milo_voice.calls.cluster import web_key
from milo_voice.calls.takeover import Takeover
from milo_voice.calls.webrtc import LiveCall, LiveCalls, run_call, wire
from milo_voice.errors import ProtocolViolation
from milo_voice.media.transports.webrtc import WebRtcTransport
from milo_voice.media.transports.webrtc_offer import RTCSessionDescription, parse_offer
from milo_voice.settings import Settings
from milo_voice.store.tables import Candidate, ConsentChannel
from milo_voice.web import node_routing as routing
from milo_voice.web import notice as notices
from milo_voice.web.candidate_limits import client_host, log_refusal, public_limits, too_many_json
from milo_voice.web.operations import capacity, refused_json
from milo_voice.web.repos import repo, sessions
from milo_voice.workspace.attempts import LinkState
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


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise ProtocolViolation(f"request body over {MAX_BODY_BYTES} bytes")
    raw = b""
    async for piece in request.stream():
        raw += piece
        if len(raw) > MAX_BODY_BYTES:
            raise ProtocolViolation(f"request body over {MAX_BODY_BYTES} bytes")
    return raw


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolViolation("the body is not JSON") from None


END_WAIT = 10.0
"""Seconds the end route waits for the session to be stored before answering."""


async def offer(request: Request) -> Response:
    """Answer an offer. Rate-limited per client address before anything else (`candidate_limits.py`):
    too many offers a minute, or a new call while the address holds too many live ones, is a 429."""
    token, limits = request.path_params["token"], public_limits(request)
    vouched = await routing.vouched_client(request)  # forwarded by the node the proxy chose
    host = vouched if vouched is not None else client_host(request)
    refusal = None if vouched is not None else limits.offer(host)  # before the link or the body is read
    if refusal is not None:
        log_refusal("rtc_offer", refusal)
        return too_many_json(refusal)
    found = await run_in_threadpool(repo(request, Candidates).link, token)
    if found is None or found[0].id is None:
        return _error(404, "This interview link is not valid.")
    candidate, state = found
    calls = live_calls(request.app)
    try:
        raw = await _read_body(request)
    except ProtocolViolation as exc:
        return _error(400, str(exc))
    takeover = None if calls.live(token) else await _where(request, candidate, state, raw, host,
                                                            forwarded=vouched is not None)
    if isinstance(takeover, Response):
        return takeover
    parsed = _parse(raw)
    if isinstance(parsed, Response):
        return parsed
    body, description = parsed
    notice = await notices.current_notice(request)  # checked again, atomically, when the consent is stored
    async with calls.lock(token):
        call = calls.live(token)
        fresh = call is None
        if call is None:
            if not state.open and takeover is None:
                return _error(410, state.message)
            if not _agreed_to_current(body.get("notice_version"), notice, candidate.id):
                return _error(409, notices.STALE)
            made = _new_call(request, candidate, host, takeover)
            if isinstance(made, Response):
                return made
            call = made
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
            refused = await _consent(request, call, notice, host) if takeover is None else None
            if refused is not None:  # a call going on elsewhere was consented to at its start
                return refused
            await _start(request, calls, call, host)
    resumed = not fresh or takeover is not None
    log.info("rtc.offer_answered", extra={"candidate_id": candidate.id, "resumed": int(resumed),
                                          "taken_over": int(takeover is not None)})
    return JSONResponse({"sdp": answer.sdp, "type": answer.type, "resumed": resumed})


async def _where(request: Request, candidate: Candidate, state: LinkState, raw: bytes, host: str, *,
                 forwarded: bool) -> Response | Takeover | None:
    """For an offer with no live call here: another node's answer (the node that holds the call, or one
    with more room), the 410 of a closed link, or None (a new call here) or the dead node's session this
    node goes on with."""
    routed, unreachable = (None, "") if forwarded else await _route(request, candidate.token, raw, host)
    if routed is not None:
        return routed
    takeover = await _takeover(request, candidate.id or 0, unreachable)
    if not state.open and takeover is None:
        return _error(410, state.message)  # a closed link: nothing to negotiate
    return takeover


async def _route(request: Request, token: str, raw: bytes, host: str) -> tuple[Response | None, str]:
    """When several nodes serve: the answer of the node that holds this link's call (a reconnect), or of
    the node with the most room (a new call); None to answer here (this node is that node, no other
    answers, or there is no cluster), with the name of the holding node that could not be reached."""
    nodes = routing.cluster(request.app)
    if nodes is None:
        return None, ""
    owner = await run_in_threadpool(nodes.owner, web_key(token))
    if owner is not None:
        if owner.name == nodes.me:  # a row from before this node restarted: the call is gone
            return None, ""
        if owner.up(nodes.now(), nodes.stale_s):
            answer = await routing.forward(request, owner, raw, host)
            if answer is not None:
                return answer, ""
        log.warning("rtc.owner_unreachable", extra={"node": owner.name, "action": "answered here"})
        return None, owner.name
    chosen = await run_in_threadpool(nodes.pick)
    if chosen is None or chosen.name == nodes.me:
        return None, ""
    return await routing.forward(request, chosen, raw, host), ""


async def _takeover(request: Request, candidate_id: int, unreachable: str) -> Takeover | None:
    """The candidate's live session on a node that is not up (or did not answer just now), to go on with
    here; None when there is none (or no cluster)."""
    nodes = routing.cluster(request.app)
    if nodes is None:
        return None
    row = await run_in_threadpool(sessions(request).live_session_of, candidate_id)
    if row is None or row.id is None or not row.node or row.node == nodes.me:
        return None
    owner = next((n for n in await run_in_threadpool(nodes.nodes) if n.name == row.node), None)
    if owner is not None and owner.up(nodes.now(), nodes.stale_s) and owner.name != unreachable:
        return None  # its node is up and answers: the session is not this node's to take
    log.warning("rtc.takeover", extra={"candidate_id": candidate_id, "session_id": row.id,
                                       "from_node": row.node, "reason": "its node does not answer"})
    return Takeover(row.id, row.node)


def _parse(raw: bytes) -> tuple[dict[str, Any], RTCSessionDescription] | Response:
    """The offer's JSON and session description, or the 400 that refuses it (consent is required)."""
    try:
        body = _json(raw)
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


def _new_call(request: Request, candidate: Candidate, host: str,
              takeover: Takeover | None) -> LiveCall | Response:
    """A new call's place on this node and for its address, and its transport; or the 503 or 429."""
    settings: Settings = request.app.state.settings
    busy = capacity(request.app).refuse("web")  # node full or draining: a reconnect never is
    if busy is not None:
        return refused_json(busy)
    refusal = public_limits(request).start_call(host, candidate.token)  # before the transport is built
    if refusal is not None:
        log_refusal("rtc_offer", refusal, candidate_id=candidate.id)
        return too_many_json(refusal)
    transport = WebRtcTransport(ice_servers=settings.ice_server_list, resume_window=settings.resume_window)
    call = LiveCall(candidate.token, candidate.id or 0, candidate.interview_id, transport, takeover=takeover)
    wire(call)
    capacity(request.app).enter("web", _ender(call), key=id(call))  # live until its task ends
    return call


async def _start(request: Request, calls: LiveCalls, call: LiveCall, host: str) -> None:
    """Register the call and run its interview; its end frees its places (per address, on the node); with
    several nodes, the others send this link's requests here from now on."""
    calls.by_token[call.token] = call
    runtime, store = request.app.state.runtime.get, sessions(request)
    call.task = asyncio.ensure_future(run_call(
        calls, call, settings=request.app.state.settings, runtime=runtime, store=store))
    call.task.add_done_callback(lambda _: _release(request, host, call))
    nodes = routing.cluster(request.app)
    if nodes is not None:
        await run_in_threadpool(nodes.hold, web_key(call.token), "web", call.candidate_id)


def _release(request: Request, host: str, call: LiveCall) -> None:
    """The call is over (or never started): its place per address and on the node are free again."""
    public_limits(request).end_call(host, call.token)
    capacity(request.app).leave(id(call))
    nodes = routing.cluster(request.app)
    if nodes is not None:
        asyncio.get_running_loop().run_in_executor(None, nodes.release, web_key(call.token))


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
        elsewhere = await _end_elsewhere(request, token)
        if elsewhere is not None:
            return elsewhere
        return JSONResponse({"ended": False, "reason": "no live call on this link"})
    await call.transport.close()
    if call.task is not None:  # let the session store its end, so the next page shows the status
        done, _ = await asyncio.wait({call.task}, timeout=END_WAIT)  # its failures are logged by the task
        if not done:
            log.warning("rtc.end_not_settled", extra={"candidate_id": call.candidate_id})
    return JSONResponse({"ended": True})


async def _end_elsewhere(request: Request, token: str) -> Response | None:
    """The end of a call another node holds, forwarded to it (None: no other node holds one)."""
    nodes = routing.cluster(request.app)
    if nodes is None or await routing.vouched_client(request) is not None:
        return None
    owner = await run_in_threadpool(nodes.owner, web_key(token))
    if owner is None or owner.name == nodes.me or not owner.up(nodes.now(), nodes.stale_s):
        return None
    return await routing.forward(request, owner, await request.body(), client_host(request))


def routes() -> list[BaseRoute]:
    return [
        Route("/api/rtc/{token}/offer", offer, methods=["POST"]),
        Route("/api/rtc/{token}/end", end, methods=["POST"]),
    ]
