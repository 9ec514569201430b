"""The POST fields of a webhook request Twilio signed (voice and SMS alike), or the 403 for one it
did not sign. The signature scheme itself is in `outreach/twilio_signature.py`."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from milo_voice.outreach.twilio_signature import valid_signature
from milo_voice.settings import Settings

log = logging.getLogger(__name__)
MAX_FIELDS = 100
"""Twilio sends about 20 fields; the body's size is capped by `web/body_limit.py`."""


def signed_url(settings: Settings, request: Request) -> str:
    """The URL Twilio requested: behind a proxy that is the public URL, not the one we were reached at."""
    if not settings.public_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return settings.public_url.rstrip("/") + request.url.path + query


async def signed_form(
    request: Request, settings: Settings, *, area: str, token_required: bool
) -> list[tuple[str, str]] | Response:
    """The POST parameters when the signature holds. Without `MILO_TWILIO_AUTH_TOKEN` there is nothing
    to check against: `token_required` refuses every request then (SMS: a forged STOP or delivery
    report must never land); otherwise it is accepted (voice on a development machine)."""
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    params = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    token = str(settings.twilio_auth_token)
    header = request.headers.get("x-twilio-signature", "")
    url = signed_url(settings, request)
    if (token or token_required) and not valid_signature(token, url, params, header):
        log.warning(f"{area}.bad_signature", extra={"path": request.url.path})
        detail = "" if token else " (MILO_TWILIO_AUTH_TOKEN is unset)"
        return Response(f"invalid X-Twilio-Signature{detail}", status_code=403, media_type="text/plain")
    return params
