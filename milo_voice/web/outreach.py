"""Outreach over HTTP: Twilio's SMS status callbacks and inbound messages (both signed), and the
unsubscribe page an email links to (also RFC 8058 one-click). See docs/outreach.md.

- `POST /sms/status?m=<message id>`: a delivery state for one of our messages.
- `POST /sms/inbound`: a text to one of our numbers. STOP (and Twilio's other opt-out words) stops
  SMS to every candidate with that number (and ends an SMS interview in progress), START lifts it,
  HELP gets a short answer; a text from a candidate in an SMS interview is their answer; any other
  text is stored, shown on the profile, and pauses automatic messages for that candidate (a
  person should read it). A number we do not know gets a polite reply.
- `GET /u/{token}`, `POST /u/{token}`: unsubscribe from email, or from everything.
"""

from __future__ import annotations

import logging
from pathlib import Path
from xml.sax.saxutils import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.sms_channel import Inbound, Keyword, parse_inbound, parse_status_callback
from milo_voice.outreach.types import ChannelName
from milo_voice.store.repo import NotFound
from milo_voice.web.branding import BrandedInterviews
from milo_voice.web.repos import repo
from milo_voice.web.twilio_form import signed_form
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.escalate import Escalations
from milo_voice.workspace.sms_stage import SmsStages

log = logging.getLogger(__name__)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
HELP = "Reply STOP to stop texts about your interview, START to receive them again."
UNKNOWN = ("Sorry, we could not match this number to an application. Please text from the number you "
           "applied with, or use the link in your invitation email.")


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="text/plain")


async def _signed_form(request: Request) -> dict[str, str] | Response:
    """The POST fields of a request Twilio signed; a 403 for anything else (a token is required)."""
    params = await signed_form(request, request.app.state.settings, area="outreach", token_required=True)
    return params if isinstance(params, Response) else dict(params)


async def sms_status(request: Request) -> Response:
    fields = await _signed_form(request)
    if isinstance(fields, Response):
        return fields
    provider_id, status, error = parse_status_callback(fields)
    if not provider_id or not status:
        return _text("MessageSid and MessageStatus are required", 400)
    ours = request.query_params.get("m", "")
    detail = {"provider_id": provider_id, "error": error} if error else {"provider_id": provider_id}
    try:
        row = await run_in_threadpool(lambda: repo(request, Outbox).delivery(
            message_id=int(ours) if ours.isdigit() else None, provider_id=provider_id, state=status,
            detail=detail))
    except NotFound:
        log.warning("outreach.status_unknown_message", extra={"provider_id": provider_id, "status": status})
        return _text("unknown message", 404)
    log.info("outreach.delivery", extra={"message_id": row.id, "reported": status, "status": row.status})
    return Response(status_code=204)


async def sms_inbound(request: Request) -> Response:
    fields = await _signed_form(request)
    if isinstance(fields, Response):
        return fields
    inbound = parse_inbound(fields)
    contacts = repo(request, Contacts)
    ids = await run_in_threadpool(contacts.candidates_with_phone, inbound.from_)
    escalations = Escalations(request.app.state.engine, request.app.state.settings, now=request.app.state.now)
    stages = SmsStages(request.app.state.engine, request.app.state.settings, now=request.app.state.now)
    reply = await run_in_threadpool(_act_on, contacts, escalations, stages, ids, inbound)
    for cid in ids or [None]:
        await run_in_threadpool(lambda c=cid: contacts.record_inbound(  # type: ignore[misc]
            candidate_id=c, from_number=inbound.from_, to_number=inbound.to, body=inbound.body,
            keyword=inbound.keyword.value if inbound.keyword else "", provider_id=inbound.provider_id))
    log.info("outreach.inbound", extra={"candidates": len(ids), "keyword": str(inbound.keyword or "")})
    body = f"<Message>{escape(reply)}</Message>" if reply else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
                    media_type="application/xml")


def _act_on(contacts: Contacts, escalations: Escalations, stages: SmsStages, ids: list[int],
            inbound: Inbound) -> str:
    keyword = inbound.keyword
    for cid in ids:
        if keyword is Keyword.OPT_OUT:
            contacts.opt_out(cid, ChannelName.SMS)
            stages.stopped(cid)  # an SMS interview in progress ends now
        elif keyword is Keyword.OPT_IN:
            contacts.opt_in(cid, ChannelName.SMS)
        elif keyword is None and not stages.inbound(cid, inbound.body):
            escalations.after_reply(cid, inbound.body)  # a person must read it: flagged, admins emailed
        contacts.engaged(cid, contacts.now())
    if not ids and keyword is None:
        return UNKNOWN
    return HELP if keyword is Keyword.HELP else ""


async def unsubscribe(request: Request) -> Response:
    found = await run_in_threadpool(repo(request, Candidates).by_token, request.path_params["token"])
    if found is None or found.id is None:
        return templates.TemplateResponse(request, "candidate_message.html", {
            "title": "Link not found", "message": "This unsubscribe link is not valid."}, status_code=404)
    script = await run_in_threadpool(repo(request, BrandedInterviews).script, found.interview_id)
    done = ""
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=5)
        everything = form.get("scope") == "all"
        scope = None if everything else ChannelName.EMAIL
        await run_in_threadpool(repo(request, Contacts).opt_out, found.id, scope)
        log.info("outreach.unsubscribed", extra={"candidate_id": found.id, "scope": str(scope or "all")})
        done = ("You will get no more messages about this interview." if everything
                else "You will get no more emails about this interview.")
    return templates.TemplateResponse(request, "candidate_unsubscribe.html",
                                      {"script": script, "done": done, "token": found.token})


def routes() -> list[BaseRoute]:
    return [
        Route("/sms/status", sms_status, methods=["POST"]),
        Route("/sms/inbound", sms_inbound, methods=["POST"]),
        Route("/u/{token}", unsubscribe, methods=["GET", "POST"]),
    ]
