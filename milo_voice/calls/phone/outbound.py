"""Dial a candidate: an outbound call through Twilio's REST API, answered by our own voice webhook.

The call row and its one-time stream ticket exist before Twilio dials, so the webhook Twilio
fetches on answer (`/phone/voice?outbound=<ticket>`) already knows the candidate: no keypad step.
The call comes from a number mapped to the candidate's interview (so calling it back reaches the
same interview), else from `MILO_TWILIO_CALLER_ID`. Every attempt leaves a call row: a call that
cannot be placed (no phone, no number to call from, Twilio not configured, refused or unreachable)
is stored as failed with the reason, and the decision is logged with it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from milo_voice.calls.phone.e164 import to_e164
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.phone.twilio_rest import OutboundCallFailed, create_call
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Candidate

log = logging.getLogger(__name__)

NOT_CONFIGURED = "Twilio is not configured: set MILO_TWILIO_ACCOUNT_SID and MILO_TWILIO_AUTH_TOKEN"


def outbound_enabled(settings: Settings) -> bool:
    """Are Twilio's REST credentials set (the number to call from is checked per call)?"""
    return bool(settings.twilio_account_sid and str(settings.twilio_auth_token))


def status_callback_url(settings: Settings, call_id: int | None = None) -> str:
    """Where Twilio reports call progress; our call id in the query (signed along with the URL)."""
    return f"{settings.base_url}/phone/status" + (f"?call={call_id}" if call_id is not None else "")


@dataclass(frozen=True, slots=True)
class CallPlan:
    """Whom to ring from which number, or why the call cannot be made (`refusal`)."""

    to: str = ""
    from_: str = ""
    refusal: str = ""


def plan_call(settings: Settings, phones: PhoneStore, candidate: Candidate) -> CallPlan:
    """Decide whether the candidate can be called now (blocking: reads the mapped numbers)."""
    if not outbound_enabled(settings):
        return CallPlan(refusal=NOT_CONFIGURED)
    if not candidate.phone.strip():
        return CallPlan(refusal=f"{candidate.name or 'The candidate'} has no phone number; add one first")
    try:
        to = to_e164(candidate.phone)
    except Invalid as exc:
        return CallPlan(refusal=f"the candidate's phone number cannot be dialled: {exc}")
    mapped = phones.numbers_for_interview(candidate.interview_id)
    from_ = mapped[0] if mapped else settings.twilio_caller_id.strip()
    if not from_:
        return CallPlan(refusal="no phone number is mapped to this interview version (map one under "
                                "Settings > Phone numbers) and MILO_TWILIO_CALLER_ID is not set")
    return CallPlan(to=to, from_=from_)


async def place_call(
    settings: Settings, phones: PhoneStore, candidate_id: int, *, client: httpx.AsyncClient | None = None
) -> tuple[int, str]:
    """Ring the candidate's phone; returns (phone_call id, Twilio call SID). Raises `OutboundCallFailed`
    (`cause` "setup" or "twilio", `call_id` the failed call row) when the call cannot be placed."""
    candidate = await asyncio.to_thread(phones.candidate, candidate_id)
    if candidate is None or candidate.id is None:
        raise OutboundCallFailed(f"candidate {candidate_id} does not exist", cause="setup")
    plan = await asyncio.to_thread(plan_call, settings, phones, candidate)
    call_id, ticket = await asyncio.to_thread(lambda: phones.open_call(
        direction="outbound", interview_id=candidate.interview_id, candidate_id=candidate_id,
        from_number=plan.from_, to_number=plan.to or candidate.phone,
        status="failed" if plan.refusal else "", status_detail=plan.refusal,
    ))
    fields = {"candidate_id": candidate_id, "phone_call_id": call_id}
    if plan.refusal:
        log.warning("phone.outbound_decision",
                    extra={**fields, "decision": "refused", "reason": plan.refusal})
        raise OutboundCallFailed(plan.refusal, cause="setup", call_id=call_id)
    try:
        sid = await create_call(
            api_url=settings.twilio_api_url, account_sid=settings.twilio_account_sid,
            auth_token=str(settings.twilio_auth_token), to=plan.to, from_=plan.from_,
            webhook_url=f"{settings.base_url}/phone/voice?outbound={ticket}",
            status_url=status_callback_url(settings, call_id), client=client,
        )
    except OutboundCallFailed as exc:
        await asyncio.to_thread(phones.fail_call, call_id, str(exc))
        log.warning("phone.outbound_decision", extra={**fields, "decision": "failed", "reason": str(exc)})
        raise OutboundCallFailed(str(exc), cause="twilio", call_id=call_id) from None
    await asyncio.to_thread(lambda: phones.record_status(call_id=call_id, call_sid=sid, status="queued"))
    log.info("phone.outbound_decision", extra={**fields, "decision": "placed", "call_sid": sid,
                                               "reason": f"calling from {plan.from_}"})
    return call_id, sid
