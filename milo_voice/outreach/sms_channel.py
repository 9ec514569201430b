"""SMS over Twilio Programmable Messaging, and pure parsers for what Twilio posts back.

Sync (the outreach worker's thread), with one `httpx.Client` per channel:

- `send`: `POST {api}/2010-04-01/Accounts/{AccountSid}/Messages.json` with `To`, `From` (or
  `MessagingServiceSid`), `Body` and `StatusCallback`, HTTP basic auth AccountSid:AuthToken. The
  receipt is Twilio's `sid` (SM...) and first `status` (queued; accepted through a Messaging Service).
- `find` (`dispatch.Reconciles`): whether Twilio already has this message (its list filtered by
  `To`, and `From` when we send from a number; the same body). `recover` uses it after a crash, and
  `send` itself when the request went out but no answer came back, so a message is never sent twice.

Errors are `TwilioError` (an `EngineUnavailable`) with Twilio's `code`, message and `more_info`.
Retryable: network errors, 429, 5xx, and 401 (our credentials: a setup fault that an admin can fix
while the backoff runs). Any other 4xx is final: 21211 invalid `To`, 21610 the recipient texted STOP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from milo_voice.errors import EngineUnavailable
from milo_voice.outreach.types import ChannelName, Receipt, Rendered
from milo_voice.settings import Secret, Settings

API_VERSION = "2010-04-01"
FIND_PAGES = 5
"""Pages of 50 messages `find` reads (newest first) before it says Twilio does not have the message."""


@dataclass(frozen=True, slots=True)
class SmsConfig:
    account_sid: str
    auth_token: Secret
    from_number: str = ""
    """E.164; ignored when `messaging_service_sid` is set."""
    messaging_service_sid: str = ""
    api_url: str = "https://api.twilio.com"
    timeout: float = 10.0
    """Seconds for one request (connecting: at most 5)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsConfig | None:
        """From `MILO_TWILIO_ACCOUNT_SID`, `_AUTH_TOKEN`, `_API_URL` and `MILO_SMS_FROM` or
        `MILO_SMS_MESSAGING_SERVICE_SID`; None (SMS off) unless the account and a sender are set."""
        sender = settings.sms_from or settings.sms_messaging_service_sid
        if not (settings.twilio_account_sid and settings.twilio_auth_token and sender):
            return None
        return cls(account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token,
                   from_number=settings.sms_from, messaging_service_sid=settings.sms_messaging_service_sid,
                   api_url=settings.twilio_api_url)

    @property
    def messages_path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"


class TwilioError(EngineUnavailable):
    """Twilio refused a request or could not be reached; `code` is Twilio's error code when it sent one."""

    def __init__(self, message: str, *, retryable: bool, http_status: int = 0, code: int | None = None,
                 more_info: str = "") -> None:
        super().__init__(message, retryable=retryable)
        self.http_status = http_status
        self.code = code
        self.more_info = more_info


class SmsChannel:
    """The `Channel` for SMS: Twilio's Messages resource."""

    name = ChannelName.SMS

    def __init__(self, config: SmsConfig, *, client: httpx.Client | None = None) -> None:
        self.config = config
        self.client = client or httpx.Client(
            base_url=config.api_url.rstrip("/"), auth=(config.account_sid, str(config.auth_token)),
            timeout=httpx.Timeout(config.timeout, connect=min(5.0, config.timeout)))

    def send(self, message: Rendered) -> Receipt:
        form = {"To": message.recipient, "Body": message.body_text}
        if self.config.messaging_service_sid:
            form["MessagingServiceSid"] = self.config.messaging_service_sid
        else:
            form["From"] = self.config.from_number
        if message.status_callback_url:
            form["StatusCallback"] = message.status_callback_url
        try:
            response = self.client.post(self.config.messages_path, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing reached Twilio
            raise self._unreachable(exc) from exc
        except httpx.TransportError as exc:  # sent, but the answer was lost: Twilio may have it
            found = self._find_quietly(message)
            if found is not None:
                return found
            raise self._unreachable(exc) from exc
        body = _json(response)
        if response.status_code >= 400 or not isinstance(body.get("sid"), str):
            raise _refusal(response, body, f"the SMS to {message.recipient}")
        return Receipt(provider_id=body["sid"], status=str(body.get("status") or "queued"))

    def find(self, message: Rendered) -> Receipt | None:
        """Twilio's receipt for a message with this recipient, sender and body, if Twilio has one."""
        query: dict[str, str | int] = {"To": message.recipient, "PageSize": 50}
        if not self.config.messaging_service_sid:
            query["From"] = self.config.from_number
        params: dict[str, str | int] | None = query
        wanted = _normalized(message.body_text)
        url: str | None = self.config.messages_path
        for _ in range(FIND_PAGES):
            if url is None:
                break
            try:
                response = self.client.get(url, params=params)
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc
            page = _json(response)
            if response.status_code >= 400 or not isinstance(page.get("messages"), list):
                raise _refusal(response, page, "the message lookup")
            for sent in page["messages"]:
                if isinstance(sent, dict) and _normalized(str(sent.get("body") or "")) == wanted:
                    return Receipt(provider_id=str(sent["sid"]), status=str(sent.get("status") or "queued"))
            url, params = page.get("next_page_uri") or None, None  # the next page's URI has the query
        return None

    def close(self) -> None:
        self.client.close()

    def _find_quietly(self, message: Rendered) -> Receipt | None:
        try:
            return self.find(message)
        except EngineUnavailable:
            return None

    def _unreachable(self, exc: httpx.HTTPError) -> TwilioError:
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            why = f"did not answer within {self.config.timeout:g} s ({type(exc).__name__})"
        else:
            why = f"is unreachable ({type(exc).__name__})"
        return TwilioError(f"Twilio at {self.config.api_url} {why}", retryable=True)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _normalized(text: str) -> str:
    return " ".join(text.split())


HINTS = {
    401: " (check MILO_TWILIO_ACCOUNT_SID and MILO_TWILIO_AUTH_TOKEN)",
    403: " (the account may not send to this destination: check its geographic permissions)",
    429: " (Twilio is rate-limiting this account: the message is retried later)",
}
"""What to check, by HTTP status, after Twilio's own words."""
SERVER_HINT = " (a fault on Twilio's side, not in this setup: see status.twilio.com)"


def _refusal(response: httpx.Response, body: Mapping[str, Any], what: str) -> TwilioError:
    """Twilio's error JSON (`code`, `message`, `more_info`) as a `TwilioError`."""
    status = response.status_code
    code = body.get("code") if isinstance(body.get("code"), int) else None
    text = str(body.get("message") or response.reason_phrase or "no message")
    if status < 400:
        text = f"an answer without a sid: {response.text[:200]!r}"
    more_info = str(body.get("more_info") or "")
    retryable = status in (401, 429) or status >= 500 or status < 400
    label = f"error {code}" if code is not None else f"HTTP {status}"
    detail = f" (HTTP {status}{', ' + more_info if more_info else ''})" if code is not None else ""
    hint = HINTS.get(status, SERVER_HINT if status >= 500 else "")
    return TwilioError(f"Twilio refused {what}: {label}: {text}{detail}{hint}", retryable=retryable,
                       http_status=status, code=code, more_info=more_info)


# -- what Twilio posts back ---------------------------------------------------------------------


def parse_status_callback(form: Mapping[str, str]) -> tuple[str, str, str]:
    """A message status callback -> (MessageSid, MessageStatus in lower case, ErrorCode or "").
    Statuses: queued, sending, sent, delivered, undelivered, failed (also accepted, scheduled,
    canceled, read); "" for a field Twilio did not send."""
    provider_id = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    return provider_id, status, (form.get("ErrorCode") or "").strip()


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
                    Keyword.OPT_OUT),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.OPT_IN),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}
"""Twilio's default opt-out, opt-in and help keywords: a message that is one of them, whole."""
OPT_OUT_TYPES = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}
"""Twilio's own verdict (`OptOutType`, sent with Advanced Opt-Out, custom keywords included)."""


def keyword_of(body: str) -> Keyword | None:
    """The keyword a text is (case-insensitive, the whole message trimmed); None for free text."""
    return KEYWORDS.get(body.strip().upper())


@dataclass(frozen=True, slots=True)
class Inbound:
    """A text a candidate sent to one of our numbers."""

    from_: str
    to: str
    body: str
    provider_id: str
    keyword: Keyword | None = None
    """None: free text, for a person to read."""


def parse_inbound(form: Mapping[str, str]) -> Inbound:
    """Twilio's incoming-message webhook -> `Inbound`; Twilio's `OptOutType` wins over our reading."""
    body = form.get("Body") or ""
    keyword = OPT_OUT_TYPES.get((form.get("OptOutType") or "").strip().upper()) or keyword_of(body)
    return Inbound(from_=(form.get("From") or "").strip(), to=(form.get("To") or "").strip(), body=body,
                   provider_id=(form.get("MessageSid") or form.get("SmsMessageSid") or "").strip(),
                   keyword=keyword)
