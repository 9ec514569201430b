"""The recruiter's side of messages: the profile's Messages section (every message with its verdict,
delivery states and failures, the candidate's deadline and SMS replies), the Nudge button (one
candidate, or the list's selection) and "Extend by N days".

Everyone signed in sees the log; only admins nudge or extend. Each nudge and extension is audited
and logged with who asked; a nudge's "scheduled" event carries who, too. A nudge is only scheduled
here: the dispatcher's guardrails still decide when it goes (`outreach.nudge.GUARDRAILS`, which the
flash message repeats). The result of a press is shown once on the next page (a flash kept in the
signed session cookie).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.outreach import nudge
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.message_log import MessageLog
from milo_voice.outreach.nudge import Nudged, Nudges
from milo_voice.outreach.settings_store import MAX_DEADLINE_DAYS
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.outreach_pages import KINDS
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace

log = logging.getLogger(__name__)

FLASH = "flash"
"""The session key of the one-time message shown after a nudge or an extension."""
KIND_LABELS = {kind.value: label for kind, label in KINDS.items()}
CHANNEL_LABELS = {"email": "email", "sms": "SMS"}
SHOWN_SKIPS = 5
"""Skipped candidates named in a bulk nudge's flash (the rest are counted)."""
EXTEND_DEFAULT = 7


def flash(request: Request, text: str) -> None:
    request.session[FLASH] = text


def pop_flash(request: Request) -> str:
    """The message left by the last POST, shown once."""
    return str(request.session.pop(FLASH, "") or "")


def channels_text(channels: Sequence[str]) -> str:
    names = [CHANNEL_LABELS.get(c, c) for c in channels]
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


async def messages_context(request: Request, cid: int) -> dict[str, object]:
    """What the profile's Messages section (`_messages.html`) shows."""
    ws = workspace(request)
    ends = await run_in_threadpool(ws.candidates.deadline, cid)
    return {
        "outreach_log": await run_in_threadpool(repo(request, MessageLog).messages, cid),
        "sms_replies": await run_in_threadpool(repo(request, Contacts).replies, cid),
        "deadline_at": ends, "deadline_passed": ws.candidates.now() >= ends,
        "nudge_channels": [CHANNEL_LABELS[c.value] for c in sorted(nudge.available(ws.settings))],
        "extend_max": MAX_DEADLINE_DAYS, "extend_default": EXTEND_DEFAULT, "kind_labels": KIND_LABELS,
        "message_flash": pop_flash(request),
    }


async def messages_document(request: Request, cid: int) -> dict[str, object]:
    """`GET /api/candidates/{id}/messages`: the log, the deadline and the SMS replies as JSON."""
    ws = workspace(request)
    await run_in_threadpool(ws.candidates.get, cid)  # an unknown candidate is a 404
    logged = await run_in_threadpool(repo(request, MessageLog).messages, cid)
    replies = await run_in_threadpool(repo(request, Contacts).replies, cid)
    ends = await run_in_threadpool(ws.candidates.deadline, cid)
    return {
        "candidate": cid, "deadline": ends.isoformat(), "messages": [m.as_json() for m in logged],
        "replies": [{"id": r.id, "from": r.from_number, "body": r.body, "keyword": r.keyword or None,
                     "received_at": r.received_at.isoformat()} for r in replies],
    }


def nudged_document(result: Nudged) -> dict[str, object]:
    """`POST /api/candidates/{id}/nudge`: what was scheduled."""
    return {"candidate": result.candidate_id,
            "scheduled": [{"channel": c.value, "message_id": m} for c, m in result.scheduled],
            "not_used": list(result.notes), "note": nudge.GUARDRAILS}


def _refused(request: Request, heading: str, reason: str, back: str) -> Response:
    return render(request, "message.html", {"heading": heading, "message": reason, "back_url": back,
                                            "back_label": "Back"}, 400)


def one_line(result: Nudged) -> str:
    """A single nudge's result, as the flash says it."""
    text = f"Nudge scheduled for {result.name} by {channels_text(result.channels)}"
    if result.notes:
        text += f" ({'; '.join(result.notes)})"
    return f"{text}. {nudge.GUARDRAILS}"


def bulk_line(results: Sequence[Nudged]) -> str:
    """A bulk nudge's results: how many were scheduled, and the first few skipped with why."""
    done = [r for r in results if not r.skipped]
    skipped = [r for r in results if r.skipped]
    messages = sum(len(r.scheduled) for r in done)
    text = f"Nudges scheduled for {len(done)} of {len(results)} candidates ({messages} messages)."
    if skipped:
        named = "; ".join(r.skipped for r in skipped[:SHOWN_SKIPS])
        more = f"; and {len(skipped) - SHOWN_SKIPS} more" if len(skipped) > SHOWN_SKIPS else ""
        text += f" Skipped {len(skipped)}: {named}{more}."
    return f"{text} {nudge.GUARDRAILS}" if done else text


async def audit_nudge(request: Request, result: Nudged, *, bulk: int = 0) -> None:
    ws = workspace(request)
    detail: dict[str, object] = {"channels": result.channels, "messages": [m for _, m in result.scheduled]}
    if bulk:
        detail["bulk"] = bulk
    await run_in_threadpool(lambda: ws.audit.record(who(request), "nudge", "candidate", result.candidate_id,
                                                    **detail))


@page(UserRole.ADMIN)
async def nudge_one(request: Request) -> Response:
    ws, cid, me = workspace(request), int(request.path_params["cid"]), who(request)
    await run_in_threadpool(ws.candidates.get, cid)  # an unknown candidate is a 404
    profile = f"/app/candidates/{cid}"
    try:
        result = await run_in_threadpool(
            lambda: repo(request, Nudges).nudge(cid, nudge.config_from(ws.settings), by=me.actor))
    except Invalid as exc:
        log.info("workspace.nudge_refused", extra={"candidate_id": cid, "by": me.actor, "reason": str(exc)})
        return _refused(request, "The nudge was not scheduled", str(exc), profile)
    await audit_nudge(request, result)
    flash(request, one_line(result))
    return RedirectResponse(f"{profile}#messages", status_code=303)


@page(UserRole.ADMIN)
async def nudge_bulk(request: Request) -> Response:
    ws, me = workspace(request), who(request)
    form = await request.form()
    ids = [int(i) for i in form.getlist("ids") if str(i).isdigit()]
    back = str(form.get("back", ""))
    back = back if back.startswith("/app/candidates") else "/app/candidates"
    if not ids:
        flash(request, "Select the candidates to nudge first.")
        return RedirectResponse(back, status_code=303)
    try:
        results = await run_in_threadpool(
            lambda: repo(request, Nudges).nudge_many(ids, nudge.config_from(ws.settings), by=me.actor))
    except Invalid as exc:
        return _refused(request, "No nudge was scheduled", str(exc), back)
    done = [r for r in results if not r.skipped]
    for result in done:
        await audit_nudge(request, result, bulk=len(results))
    log.info("workspace.nudge_bulk", extra={"by": me.actor, "asked": len(results), "scheduled": len(done)})
    flash(request, bulk_line(results))
    return RedirectResponse(back, status_code=303)


@page(UserRole.ADMIN)
async def extend_deadline(request: Request) -> Response:
    """Move the deadline N days later (from now when it had passed: the link opens again)."""
    ws, cid, me = workspace(request), int(request.path_params["cid"]), who(request)
    raw = str((await request.form()).get("days", "")).strip()
    profile = f"/app/candidates/{cid}"
    before = await run_in_threadpool(ws.candidates.deadline, cid)  # an unknown candidate is a 404
    reopened = before <= ws.candidates.now()
    try:
        if not raw.isdigit():
            raise Invalid(f"extend by {raw!r}: write a whole number of days from 1 to {MAX_DEADLINE_DAYS}")
        days = int(raw)
        after = await run_in_threadpool(ws.candidates.extend_deadline, cid, days)
    except Invalid as exc:
        return _refused(request, "The deadline was not changed", str(exc), profile)
    await run_in_threadpool(lambda: ws.audit.record(
        me, "extend_deadline", "candidate", cid, days=days, before=before.isoformat(),
        after=after.isoformat(), reopened=reopened))
    log.info("workspace.deadline_extended", extra={"candidate_id": cid, "by": me.actor, "days": days,
                                                   "deadline": after.isoformat(), "reopened": reopened})
    text = f"Deadline extended by {days} day{'s' if days != 1 else ''}, to {after:%Y-%m-%d %H:%M} UTC."
    flash(request, text + (" It had passed: the candidate's link is open again." if reopened else ""))
    return RedirectResponse(f"{profile}#messages", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/candidates/nudge", nudge_bulk, methods=["POST"]),
        Route("/candidates/{cid:int}/nudge", nudge_one, methods=["POST"]),
        Route("/candidates/{cid:int}/deadline", extend_deadline, methods=["POST"]),
    ]
