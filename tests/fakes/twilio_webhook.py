"""Twilio's side of a webhook: the form it posts for a call and its `X-Twilio-Signature`.

The signature is written out here from Twilio's documentation (HMAC-SHA1 keyed with the auth token
over the full URL, then each POST parameter's name and value in name order; base64), not with
milo_voice's own signer, so a shared mistake cannot pass unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid


def twilio_signature(token: str, url: str, form: dict[str, str]) -> str:
    data = url + "".join(name + form[name] for name in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed(token: str, url: str, form: dict[str, str]) -> dict[str, str]:
    """The headers Twilio sends with `form` posted to `url`."""
    return {"X-Twilio-Signature": twilio_signature(token, url, form)}


def new_call_sid() -> str:
    """A fresh CallSid, as Twilio gives every call its own."""
    return "CA" + uuid.uuid4().hex


def voice_form(caller: str, to: str, call_sid: str = "", status: str = "ringing") -> dict[str, str]:
    """What Twilio posts to the voice URL when `caller` rings `to`."""
    return {
        "CallSid": call_sid or new_call_sid(),
        "AccountSid": "AC" + "0" * 31 + "1",
        "From": caller,
        "To": to,
        "Direction": "inbound",
        "CallStatus": status,
        "ApiVersion": "2010-04-01",
    }
