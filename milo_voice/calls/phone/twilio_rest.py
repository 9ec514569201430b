"""Twilio's HTTP side: webhook signatures, the TwiML we answer with, and the REST call to dial out.

No web framework and no database: `web/phone.py` and the outbound-call helper compose these.
The signature is Twilio's documented scheme: HMAC-SHA1, keyed with the account's auth token,
over the full URL Twilio requested followed by every POST parameter as name + value, sorted by
name; base64 of the digest goes in `X-Twilio-Signature`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape, quoteattr

import httpx

from milo_voice.errors import MiloError
from milo_voice.outreach.twilio_signature import signature as signature
from milo_voice.outreach.twilio_signature import valid_signature as valid_signature

API_VERSION = "2010-04-01"
REST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""Twilio answers call creation in well under a second; 10 s covers a slow network, not a dead one."""


STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
"""The call progress events we ask Twilio to report to the StatusCallback URL (one parameter each)."""


class OutboundCallFailed(MiloError):
    """A call could not be placed; the message says why (ours, or Twilio's reason).

    `cause` is "setup" when our configuration or data stop the call (fix it, then retry) and "twilio"
    when Twilio refused it or could not be reached; `call_id` names the call row that records the
    failure, when there is one."""

    def __init__(self, message: str, *, cause: str = "twilio", call_id: int | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.call_id = call_id


# -- signatures --------------------------------------------------------------------------------


# Signatures: `signature` and `valid_signature` (imported above) are defined once, in
# outreach/twilio_signature.py; the SMS webhooks use them too.


# -- TwiML ---------------------------------------------------------------------------------------


def stream_url(base_url: str, path: str = "/phone/stream") -> str:
    """The websocket URL Twilio connects to: the public base URL with http(s) turned into ws(s)."""
    parts = urlsplit(base_url.rstrip("/"))
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))


def connect_stream(url: str, parameters: dict[str, str]) -> str:
    """TwiML that connects the call to a bidirectional media stream, passing `parameters` along."""
    params = "".join(f"<Parameter name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in parameters.items())
    return _twiml(f"<Connect><Stream url={quoteattr(url)}>{params}</Stream></Connect>")


def say_and_hang_up(text: str) -> str:
    """TwiML that says one line and ends the call (an unknown number, an expired call)."""
    return _twiml(f"<Say>{escape(text)}</Say><Hangup/>")


def _twiml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


# -- REST: outbound calls ------------------------------------------------------------------------


async def create_call(
    *, api_url: str, account_sid: str, auth_token: str, to: str, from_: str, webhook_url: str,
    status_url: str = "", client: httpx.AsyncClient | None = None,
) -> str:
    """Ask Twilio to dial `to` from `from_`; when answered, Twilio fetches TwiML from `webhook_url`, and
    it POSTs the call's progress (`STATUS_EVENTS`) to `status_url` when one is given.
    Returns the new call's SID; raises `OutboundCallFailed` with Twilio's message."""
    url = f"{api_url.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}/Calls.json"
    form: dict[str, str | list[str]] = {"To": to, "From": from_, "Url": webhook_url, "Method": "POST"}
    if status_url:
        form.update(StatusCallback=status_url, StatusCallbackMethod="POST",
                    StatusCallbackEvent=list(STATUS_EVENTS))
    own = client is None
    http = client or httpx.AsyncClient(timeout=REST_TIMEOUT)
    try:
        response = await http.post(url, data=form, auth=(account_sid, auth_token))
    except httpx.HTTPError as exc:
        raise OutboundCallFailed(f"Twilio unreachable at {api_url}: {type(exc).__name__}") from None
    finally:
        if own:
            await http.aclose()
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400 or not isinstance(body, dict) or not isinstance(body.get("sid"), str):
        message = body.get("message") if isinstance(body, dict) else None
        raise OutboundCallFailed(
            f"Twilio refused the call (HTTP {response.status_code}): {message or 'no sid'}"
        )
    return body["sid"]
