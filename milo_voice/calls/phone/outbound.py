"""Dial a candidate: an outbound call through Twilio's REST API, answered by our own voice webhook.

The call row and its one-time stream ticket exist before Twilio dials, so the webhook Twilio
fetches on answer (`/phone/voice?outbound=<ticket>`) already knows the candidate: no keypad step.
"""

from __future__ import annotations

import asyncio

import httpx

from milo_voice.calls.phone.numbers import PhoneStore, normalise_number
from milo_voice.calls.phone.twilio_rest import OutboundCallFailed, create_call
from milo_voice.settings import Settings


def outbound_enabled(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_caller_id)


async def place_call(
    settings: Settings, phones: PhoneStore, candidate_id: int, *, client: httpx.AsyncClient | None = None
) -> tuple[int, str]:
    """Ring the candidate's phone; returns (phone_call id, Twilio call SID)."""
    if not outbound_enabled(settings):
        raise OutboundCallFailed(
            "outbound calls need MILO_TWILIO_ACCOUNT_SID, MILO_TWILIO_AUTH_TOKEN and MILO_TWILIO_CALLER_ID"
        )
    candidate = await asyncio.to_thread(phones.candidate, candidate_id)
    if candidate is None:
        raise OutboundCallFailed(f"candidate {candidate_id} does not exist")
    to = normalise_number(candidate.phone)
    if not to.startswith("+"):
        raise OutboundCallFailed(f"candidate {candidate_id} has no phone number in E.164 form (+country...)")
    call_id, ticket = await asyncio.to_thread(lambda: phones.open_call(
        direction="outbound", interview_id=candidate.interview_id, candidate_id=candidate_id,
        from_number=settings.twilio_caller_id, to_number=to,
    ))
    sid = await create_call(
        api_url=settings.twilio_api_url, account_sid=settings.twilio_account_sid,
        auth_token=str(settings.twilio_auth_token), to=to, from_=settings.twilio_caller_id,
        webhook_url=f"{settings.base_url}/phone/voice?outbound={ticket}", client=client,
    )
    await asyncio.to_thread(phones.update_call, call_id, call_sid=sid)
    return call_id, sid
