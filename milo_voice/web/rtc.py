"""Browser call signalling and the live calls of this process: offer -> answer, end, resume.

POST /api/rtc/{token}/offer answers an SDP offer (JSON `{sdp, type: "offer", consent: true}`). The
first offer of a link starts a call: once the peer connects, `run_session` runs on its
`WebRtcTransport`. While that call lives, another offer from the same link swaps the peer in
place (a reload, a dropped network) and the same `InterviewSession` goes on: same question, same
recording. The call ends when the interview completes, on POST /api/rtc/{token}/end or the page's
end button, or `MILO_RESUME_WINDOW` seconds after its peer went away. Calls live in memory: a live
interview stays on the process that holds its media (sticky routing when several run).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.errors import ProtocolViolation
from milo_voice.live import run_session
from milo_voice.media.webrtc_transport import WebRtcTransport, parse_offer
from milo_voice.models import CandidateStatus, Speaker
from milo_voice.settings import Settings
from milo_voice.store import Store

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 100_000
"""Largest offer request accepted (the SDP itself is capped lower, see `MAX_SDP_BYTES`)."""
CONNECT_TIMEOUT = 30.0
"""Seconds a new call's peer gets to connect (ICE + DTLS) before the call is dropped, sessionless."""
CAPTION_POLL = 1.0
"""Seconds between looks for newly heard interviewer lines to send as captions."""


@dataclass(slots=True)
class LiveCall:
    """One candidate's browser call on this process."""

    token: str
    candidate_id: int
    interview_id: int
    transport: WebRtcTransport
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    session_id: int | None = None
    task: asyncio.Task[None] | None = None
    captions_sent: int = 0
    """Turns already looked at for captions (by index)."""
    helpers: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.helpers.add(task)
        task.add_done_callback(self.helpers.discard)


class LiveCalls:
    """The live browser calls of this process, by candidate token."""

    def __init__(self) -> None:
        self.by_token: dict[str, LiveCall] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, token: str) -> asyncio.Lock:
        return self._locks.setdefault(token, asyncio.Lock())

    def live(self, token: str) -> LiveCall | None:
        call = self.by_token.get(token)
        return call if call is not None and not call.transport.closed else None

    def drop(self, call: LiveCall) -> None:
        if self.by_token.get(call.token) is call:
            del self.by_token[call.token]
            self._locks.pop(call.token, None)


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


async def offer(request: Request) -> Response:
    store: Store = request.app.state.store
    settings: Settings = request.app.state.settings
    token = request.path_params["token"]
    candidate = await run_in_threadpool(store.candidate_by_token, token)
    if candidate is None or candidate.id is None:
        return _error(404, "This interview link is not valid.")
    try:
        body = await _json_body(request)
        description = parse_offer(body)
    except ProtocolViolation as exc:
        return _error(400, str(exc))
    if body.get("consent") is not True:
        return _error(400, "The candidate has not agreed to the recording ('consent': true is required).")
    calls = live_calls(request.app)
    async with calls.lock(token):
        call = calls.live(token)
        fresh = call is None
        if call is None:
            if candidate.status == CandidateStatus.COMPLETED.value:
                return _error(410, "This interview has already been completed.")
            transport = WebRtcTransport(
                ice_servers=settings.ice_server_list, resume_window=settings.resume_window
            )
            call = LiveCall(token, candidate.id, candidate.interview_id, transport)
            _wire(request.app, call)
        try:
            answer = await call.transport.accept(description)
        except ProtocolViolation as exc:
            if fresh:
                await call.transport.close()
            return _error(400, str(exc))
        if fresh:
            calls.by_token[token] = call
            call.task = asyncio.ensure_future(_run(request.app, call))
    log.info("rtc.offer_answered", extra={"candidate_id": candidate.id, "resumed": int(not fresh)})
    return JSONResponse({"sdp": answer.sdp, "type": answer.type, "resumed": not fresh})


async def end(request: Request) -> Response:
    token = request.path_params["token"]
    store: Store = request.app.state.store
    if await run_in_threadpool(store.candidate_by_token, token) is None:
        return _error(404, "This interview link is not valid.")
    call = live_calls(request.app).live(token)
    if call is None:
        return JSONResponse({"ended": False, "reason": "no live call on this link"})
    await call.transport.close()
    return JSONResponse({"ended": True})


def _wire(app: Starlette, call: LiveCall) -> None:
    """Connect the transport's callbacks to the page: state, captions, end button."""
    transport = call.transport

    def on_peer(state: str) -> None:
        if state == "connected":
            call.connected.set()
            transport.send_control({"type": "state", "speaking": False})

    def on_control(message: dict[str, Any]) -> None:
        if message.get("type") == "end":
            log.info("rtc.ended_by_candidate", extra={"candidate_id": call.candidate_id})
            call.spawn(transport.close())

    transport.on_peer = on_peer
    transport.on_control = on_control
    transport.on_speaking = lambda speaking: transport.send_control({"type": "state", "speaking": speaking})


async def _run(app: Starlette, call: LiveCall) -> None:
    """Wait for the peer, then run the interview on this call to its end."""
    calls = live_calls(app)
    settings: Settings = app.state.settings
    store: Store = app.state.store
    try:
        try:
            await asyncio.wait_for(call.connected.wait(), CONNECT_TIMEOUT)
        except TimeoutError:
            log.warning("rtc.connect_timeout", extra={"candidate_id": call.candidate_id})
            await call.transport.close()
            return
        runtime = await app.state.runtime.get()
        captions = asyncio.ensure_future(_send_captions(store, call))
        try:
            outcome = await run_session(
                settings, runtime, store, call.transport,
                candidate_id=call.candidate_id, interview_id=call.interview_id, channel="webrtc",
                on_started=_on_started(store, call),
            )
        finally:
            captions.cancel()
        log.info("rtc.session_over", extra={"session_id": outcome.session_id, "status": outcome.status,
                                            "peers": call.transport.peers})
    except Exception:  # task root: one call's failure must not touch another's
        log.exception("rtc.call_failed", extra={"candidate_id": call.candidate_id})
        await call.transport.close()
    finally:
        calls.drop(call)


def _on_started(store: Store, call: LiveCall) -> Callable[[int], None]:
    def started(session_id: int) -> None:
        call.session_id = session_id
        call.spawn(_record_video(store, call, session_id))

    return started


async def _record_video(store: Store, call: LiveCall, session_id: int) -> None:
    """The camera, if on, is recorded into the session's recording folder (camera-<n>.webm)."""
    row = await run_in_threadpool(store.get_session, session_id)
    if row is not None:
        call.transport.record_video(Path(row.recording_dir))


async def _send_captions(store: Store, call: LiveCall) -> None:
    """Send each interviewer line to the page once it has been played (the stored, heard text)."""
    while True:
        await asyncio.sleep(CAPTION_POLL)
        if call.session_id is None:
            continue
        turns = await run_in_threadpool(store.turns, call.session_id)
        for turn in turns:
            if turn.index >= call.captions_sent and turn.speaker == Speaker.INTERVIEWER.value:
                call.transport.send_control({"type": "caption", "text": turn.text})
        if turns:
            call.captions_sent = max(call.captions_sent, turns[-1].index + 1)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/rtc/{token}/offer", offer, methods=["POST"]),
        Route("/api/rtc/{token}/end", end, methods=["POST"]),
    ]
