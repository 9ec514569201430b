"""The phone channel's HTTP side: Twilio's voice webhook (TwiML) and the Media Streams websocket.

`POST /phone/voice` maps the called number to an interview and the caller to a candidate (by
phone number), opens a call row with a one-time ticket, and answers `<Connect><Stream>` with the
ticket as a `<Parameter>`. `/phone/stream` claims the ticket, asks for a keypad access code if the
caller is still unknown, then runs the interview (`calls/phone/call.py`). The ticket is what
authenticates the stream: only Twilio saw it, in the answer to a signed webhook. Without
`MILO_TWILIO_AUTH_TOKEN` the voice webhook is refused (403) unless `MILO_TWILIO_ALLOW_UNSIGNED`
(development only) lets it through; one CallSid gets one ticket (a replayed webhook hears a goodbye),
and a ticket is claimed once. On a node that is full or draining (`web/operations.py`) the voice webhook
says the line is busy and hangs up, before any row is written; a stream already connected always runs.
With several nodes (`calls/cluster.py`) the webhook sends the stream to the node with the most room
(MILO_NODE_PUBLIC_URL of that node) and holds its place; the line is busy only when every node is full.
`POST /phone/status` takes Twilio's StatusCallback (CallSid, CallStatus, CallDuration) and stores the
call's progress; it needs `MILO_TWILIO_AUTH_TOKEN`, since an unsigned status report proves nothing.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from milo_voice.calls.capacity import EVERY_NODE_BUSY, count_refusal
from milo_voice.calls.cluster import ALONE, FULL, Cluster, phone_key
from milo_voice.calls.phone.call import run_phone_call
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.phone.twilio_rest import connect_stream, say_and_hang_up, stream_url
from milo_voice.errors import ProtocolViolation, TransportClosed
from milo_voice.media.transports.twilio import CLOSE_POLICY, TwilioStreamTransport
from milo_voice.settings import Settings
from milo_voice.store.db import DbEngine
from milo_voice.web import node_routing as routing
from milo_voice.web.operations import capacity
from milo_voice.web.repos import repo, sessions
from milo_voice.web.twilio_form import signed_form

log = logging.getLogger(__name__)

UNKNOWN_NUMBER = "Sorry, this number is not connected to an interview. Goodbye."
EXPIRED_CALL = "Sorry, this call can no longer be connected to your interview. Goodbye."
BUSY_LINE = ("Sorry, the line is busy: every interviewer is taken right now. Please call again in a few "
             "minutes. Goodbye.")
NO_TOKEN = ("MILO_TWILIO_AUTH_TOKEN is unset, so X-Twilio-Signature cannot be verified; set it "
            "(or MILO_TWILIO_ALLOW_UNSIGNED=true, development only)")
STATUS_REASONS = {
    "busy": "the line was busy",
    "no-answer": "nobody answered",
    "canceled": "the call was canceled before it was answered",
    "failed": "Twilio could not connect the call",
}


class StarletteSocket:
    """Starlette's `WebSocket` as a `MessageSocket`."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def receive(self) -> str | bytes | None:
        try:
            message = await self.websocket.receive()
        except (RuntimeError, WebSocketDisconnect):
            return None
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    async def send(self, text: str) -> None:
        try:
            await self.websocket.send_text(text)
        except Exception as exc:  # uvicorn raises several kinds once the peer has gone
            raise TransportClosed(f"phone websocket send failed: {type(exc).__name__}") from None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        ws = self.websocket
        gone = WebSocketState.DISCONNECTED
        if ws.application_state is gone or ws.client_state is gone:
            return
        try:
            await ws.close(code, reason)
        except Exception:  # already closing
            log.debug("phone.close_failed", exc_info=True)


def _twiml(body: str) -> Response:
    return Response(body, media_type="application/xml")


def _unsigned_refusal(request: Request, settings: Settings) -> Response | None:
    """The 403 for a voice webhook that cannot be verified (no auth token), unless development allows it."""
    if str(settings.twilio_auth_token):
        return None
    if settings.twilio_allow_unsigned:
        log.warning("phone.unsigned_webhook_accepted",
                    extra={"path": request.url.path, "setting": "MILO_TWILIO_ALLOW_UNSIGNED=true"})
        return None
    log.error("phone.unsigned_webhook_refused", extra={"path": request.url.path, "reason": NO_TOKEN})
    return Response(f"refused: {NO_TOKEN}", status_code=403, media_type="text/plain")


async def voice(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    phones = repo(request, PhoneStore)
    refused = _unsigned_refusal(request, settings)
    if refused is not None:
        return refused
    params = await signed_form(request, settings, area="phone", token_required=False)
    if isinstance(params, Response):
        return params
    fields = dict(params)
    call_sid, caller, called = fields.get("CallSid", ""), fields.get("From", ""), fields.get("To", "")
    if not call_sid:
        return Response("CallSid is required", status_code=400, media_type="text/plain")
    nodes = routing.cluster(request.app)
    outlook = await _outlook(request, nodes)
    if outlook == FULL:  # this node (alone), or every node, full or draining: before any row is written
        return _twiml(say_and_hang_up(BUSY_LINE))
    outbound = request.query_params.get("outbound")
    if outbound:
        call = await run_in_threadpool(phones.call_by_ticket, outbound)
        if call is None or call.stream_started_at is not None or call.id is None:
            return _twiml(say_and_hang_up(EXPIRED_CALL))
        await run_in_threadpool(lambda: phones.update_call(call.id or 0, call_sid=call_sid))
        ticket = outbound
    else:
        interview_id = await run_in_threadpool(phones.interview_for_number, called)
        if interview_id is None:
            log.info("phone.unknown_number")
            return _twiml(say_and_hang_up(UNKNOWN_NUMBER))
        candidate = await run_in_threadpool(phones.candidate_by_phone, interview_id, caller)
        opened = await run_in_threadpool(lambda: phones.open_call_once(
            interview_id=interview_id, candidate_id=candidate.id if candidate else None,
            call_sid=call_sid, from_number=caller, to_number=called, status=fields.get("CallStatus", ""),
        ))
        if opened is None:  # a replayed (or repeated) webhook: the call already has its one ticket
            log.warning("phone.repeated_call_sid", extra={"call_sid": call_sid})
            return _twiml(say_and_hang_up(EXPIRED_CALL))
        ticket = opened[1]
        log.info("phone.inbound_call", extra={"call_id": call_sid, "known_caller": candidate is not None})
    base = settings.base_url
    if nodes is not None:  # the call's stream goes to the node with the most room (its place is held)
        chosen = await run_in_threadpool(lambda: nodes.place(phone_key(ticket), "phone", claimed=False))
        if chosen is None and outlook != ALONE:  # the last place went to another call meanwhile
            count_refusal("phone", EVERY_NODE_BUSY, node=nodes.me, call_sid=call_sid)
            return _twiml(say_and_hang_up(BUSY_LINE))
        base = chosen.stream_url if chosen is not None else base
        log.info("phone.routed", extra={"call_sid": call_sid, "node": chosen.name if chosen else nodes.me})
    return _twiml(connect_stream(stream_url(base), {"ticket": ticket}))


async def _outlook(request: Request, nodes: Cluster | None) -> str:
    """ALONE (no cluster, or before this node's first heartbeat) when this node has room, ROOM when some
    node has, FULL when the call is refused (this node's own limit alone; else every node full or
    draining). Refusals are counted in milo_calls_refused_total and logged."""
    outlook = ALONE if nodes is None else await run_in_threadpool(nodes.outlook)
    if outlook == ALONE:
        return FULL if capacity(request.app).refuse("phone") is not None else ALONE
    if outlook == FULL:
        count_refusal("phone", EVERY_NODE_BUSY, node=nodes.me if nodes else "")
    return outlook


async def stream(websocket: WebSocket) -> None:
    await websocket.accept()
    transport = TwilioStreamTransport(StarletteSocket(websocket))
    try:
        start = await transport.open()
    except (ProtocolViolation, TransportClosed):
        await transport.close(CLOSE_POLICY, transport.ended_by or "no stream")
        return
    ticket = start.custom_parameters.get("ticket", "")
    nodes = routing.cluster(websocket.app)
    try:
        state = websocket.app.state
        if nodes is not None and ticket:  # the place the webhook held is this node's now
            await run_in_threadpool(nodes.hold, phone_key(ticket), "phone")
        with capacity(websocket.app).holding("phone", transport.close):  # never refused: its webhook was not
            await run_phone_call(state.settings, state.runtime.get, sessions(websocket), transport, ticket)
    finally:
        await transport.close()
        if nodes is not None and ticket:
            await run_in_threadpool(nodes.release, phone_key(ticket))


def _status_detail(fields: dict[str, str]) -> str:
    """Why a call ended without a conversation, in words (Twilio's error when it gives one)."""
    code, message = fields.get("ErrorCode", ""), fields.get("ErrorMessage", "")
    if code or message:
        label = f"Twilio error {code}" if code else "Twilio error"
        return f"{label}: {message}" if message else label
    return STATUS_REASONS.get(fields.get("CallStatus", ""), "")


async def call_status(request: Request) -> Response:
    """Twilio's StatusCallback: the call's progress, signed like every webhook (a token is required)."""
    settings: Settings = request.app.state.settings
    if not str(settings.twilio_auth_token):
        log.warning("phone.status_unverifiable")
        return Response("status callbacks need MILO_TWILIO_AUTH_TOKEN to verify X-Twilio-Signature",
                        status_code=403, media_type="text/plain")
    params = await signed_form(request, settings, area="phone", token_required=False)
    if isinstance(params, Response):
        return params
    fields = dict(params)
    status, sid = fields.get("CallStatus", ""), fields.get("CallSid", "")
    if not status or not sid:
        return Response("CallSid and CallStatus are required", status_code=400, media_type="text/plain")
    ours = request.query_params.get("call", "")
    duration = fields.get("CallDuration", "")
    row = await run_in_threadpool(lambda: repo(request, PhoneStore).record_status(
        call_id=int(ours) if ours.isdigit() else None, call_sid=sid, status=status,
        detail=_status_detail(fields), duration_s=int(duration) if duration.isdigit() else None,
    ))
    if row is None:
        log.warning("phone.status_unknown_call", extra={"call_sid": sid, "status": status})
        return Response("unknown call", status_code=404, media_type="text/plain")
    log.info("phone.call_status", extra={"phone_call_id": row.id, "call_sid": sid, "reported": status,
                                         "status": row.status, "duration_s": row.duration_s})
    return Response(status_code=204)


def log_webhook_posture(settings: Settings, engine: DbEngine) -> None:
    """At start-up: say loudly when Twilio webhooks are accepted unsigned, and as an error when numbers
    are mapped but calls to them will be refused for want of an auth token (blocking: reads the numbers)."""
    if str(settings.twilio_auth_token):
        if settings.twilio_allow_unsigned:
            log.warning("serve.twilio_allow_unsigned_ignored",
                        extra={"reason": "MILO_TWILIO_AUTH_TOKEN is set: every webhook is verified"})
        return
    mapped = len(PhoneStore(engine).numbers())
    if settings.twilio_allow_unsigned:
        log.warning("serve.TWILIO_WEBHOOKS_UNSIGNED", extra={
            "mapped_numbers": mapped, "setting": "MILO_TWILIO_ALLOW_UNSIGNED=true",
            "risk": "DEVELOPMENT ONLY: anyone who can reach /phone/voice and knows a mapped number and a "
                    "candidate's phone number can take that candidate's interview"})
    elif mapped:
        log.error("serve.phone_webhooks_unverifiable", extra={
            "mapped_numbers": mapped, "reason": "MILO_TWILIO_AUTH_TOKEN is unset: calls to the mapped "
                                                "numbers are refused (403) until it is set"})


def routes() -> list[BaseRoute]:
    return [
        Route("/phone/voice", voice, methods=["POST"]),
        Route("/phone/status", call_status, methods=["POST"]),
        WebSocketRoute("/phone/stream", stream),
    ]
