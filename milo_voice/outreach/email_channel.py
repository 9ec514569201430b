"""Email over SMTP (`smtplib`): one multipart/alternative message (text + HTML) per `Rendered`.

Sync: the outreach worker calls it from its own thread. Each send opens one connection (plain,
STARTTLS or implicit TLS), logs in when a user is configured, hands the message over and quits.

- `Message-ID` is `<{reference}.{digest}@{from domain}>`: the outbox reference (`milo-42`) so a
  delivered message, a bounce or a reply can be matched to its row (`reference_of`), and a digest of
  the recipient, subject and text, so the same row always gets the same id (a resend after a crash is
  the same message, RFC 5322) while a reset database with ids starting over does not reuse old ids.
- `List-Unsubscribe: <url>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058) when
  the message has an unsubscribe URL.

Errors become `EngineUnavailable` naming the server and the reason (never the password). Only a
refusal of this one message is final (`retryable=False`): a 5xx for the recipient or for the content.
Everything else is retryable: the server down or slow, a 4xx, and setup faults (login refused, no
STARTTLS, an untrusted certificate) that the backoff gives an admin time to fix.
"""

from __future__ import annotations

import base64
import hashlib
import re
import smtplib
import ssl
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum

from milo_voice.errors import EngineUnavailable
from milo_voice.outreach.types import ChannelName, Receipt, Rendered
from milo_voice.settings import Secret, Settings


class Security(StrEnum):
    STARTTLS = "starttls"
    """Connect in plain text, then upgrade with STARTTLS before logging in (port 587)."""
    TLS = "tls"
    """TLS from the first byte ("SMTPS", port 465)."""
    NONE = "none"
    """No encryption (a relay on the same host or network, port 25)."""


DEFAULT_PORTS = {Security.STARTTLS: 587, Security.TLS: 465, Security.NONE: 25}
ONE_CLICK = "List-Unsubscribe=One-Click"
_ATOM = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_OURS = re.compile(r"<?([^<>@\s]+)\.([0-9a-f]{16})@[^<>\s]+>?")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    from_address: str
    port: int = 0
    """0: the security mode's usual port (`DEFAULT_PORTS`)."""
    security: Security = Security.STARTTLS
    user: str = ""
    """Empty: no AUTH."""
    password: Secret = field(default_factory=lambda: Secret(""))
    from_name: str = ""
    timeout: float = 30.0
    """Seconds for the connection and for each reply of the server."""
    ca_file: str = ""
    """PEM file of the certificate authorities to trust; empty: the system's (tests trust their own)."""
    local_hostname: str | None = None
    """Name sent with EHLO; None: this machine's fully qualified name (smtplib's default)."""

    @property
    def port_used(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def server(self) -> str:
        return f"SMTP server {self.host}:{self.port_used}"

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The configuration from `MILO_SMTP_*`; None when `MILO_SMTP_HOST` is empty (email is off)."""
        if not settings.smtp_host:
            return None
        return cls(host=settings.smtp_host, port=settings.smtp_port,
                   security=Security(settings.smtp_security), user=settings.smtp_user,
                   password=settings.smtp_password,
                   from_address=settings.smtp_from, from_name=settings.smtp_from_name)


class EmailChannel:
    """The `Channel` for email: SMTP as configured in `SmtpConfig`."""

    name = ChannelName.EMAIL

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, message: Rendered) -> Receipt:
        try:
            email = build_email(message, self.config)
        except ValueError as exc:  # a line break in a header, an address that does not parse
            raise EngineUnavailable(f"email to {message.recipient!r} cannot be built: {exc}",
                                    retryable=False) from exc
        try:
            _deliver(self.config, email, message.recipient)
        except (smtplib.SMTPException, OSError) as exc:
            raise _unavailable(self.config, exc) from exc
        return Receipt(provider_id=str(email["Message-ID"]), status="sent")


def build_email(message: Rendered, config: SmtpConfig, *, now: datetime | None = None) -> EmailMessage:
    """The email as it goes on the wire: headers, the text part and, when there is one, the HTML part."""
    email = EmailMessage()
    email["From"] = Address(display_name=config.from_name, addr_spec=config.from_address)
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(now or datetime.now(UTC))
    email["Message-ID"] = message_id(message, config.from_address.rpartition("@")[2])
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = ONE_CLICK
    email.set_content(message.body_text, cte="quoted-printable")  # 7-bit clean: any server takes it
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html", cte="quoted-printable")
    return email


def message_id(message: Rendered, domain: str) -> str:
    """`<{reference}.{digest}@{domain}>`, the same for the same message (see the module's docstring);
    a random id when the message has no reference."""
    if not message.reference:
        return make_msgid(domain=domain)
    text = "\0".join((message.recipient, message.subject, message.body_text))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    local = ".".join(part for part in (_ATOM.sub("-", p) for p in message.reference.split(".")) if part)
    return f"<{local or 'milo'}.{digest}@{domain}>"


def reference_of(message_id: str) -> str:
    """The outbox reference carried by one of our Message-IDs ("" for an id we did not make)."""
    found = _OURS.fullmatch(message_id.strip())
    return found.group(1) if found else ""


def _deliver(config: SmtpConfig, email: EmailMessage, recipient: str) -> None:
    context = None
    if config.security is not Security.NONE:
        context = ssl.create_default_context(cafile=config.ca_file or None)
    smtp: smtplib.SMTP
    if config.security is Security.TLS:
        smtp = smtplib.SMTP_SSL(config.host, config.port_used, local_hostname=config.local_hostname,
                                timeout=config.timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port_used, local_hostname=config.local_hostname,
                            timeout=config.timeout)
    try:
        smtp.ehlo()
        if config.security is Security.STARTTLS:
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.user:
            _login(smtp, config.user, config.password)
        smtp.send_message(email, from_addr=config.from_address, to_addrs=[recipient])
        with suppress(smtplib.SMTPException, OSError):  # the server has the message; QUIT is politeness
            smtp.quit()
    finally:
        smtp.close()


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH as smtplib does it; a non-ASCII login goes as AUTH PLAIN in UTF-8 (RFC 4616), which
    smtplib cannot send (it encodes credentials in ASCII)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if not smtp.has_extn("auth") or "PLAIN" not in smtp.esmtp_features["auth"].upper().split():
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH PLAIN for a non-ASCII login")
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
    code, text = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, text)


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(said.split())}"


def _unavailable(config: SmtpConfig, exc: BaseException) -> EngineUnavailable:
    """The error for the outbox: the server, what went wrong, and whether a retry may help."""
    server = config.server
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        address, (code, text) = next(iter(exc.recipients.items()))
        return EngineUnavailable(f"{server} refused the recipient {address}: {_reply(code, text)}",
                                 retryable=code < 500)
    if isinstance(exc, smtplib.SMTPDataError):
        return EngineUnavailable(f"{server} refused the message: {_reply(exc.smtp_code, exc.smtp_error)}",
                                 retryable=exc.smtp_code < 500)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        said = _reply(exc.smtp_code, exc.smtp_error)
        why = f"refused the sender {exc.sender}: {said} (check MILO_SMTP_FROM)"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        why = (f"refused the login of {config.user!r}: {_reply(exc.smtp_code, exc.smtp_error)} "
               "(SMTP authentication failed: check MILO_SMTP_USER and MILO_SMTP_PASSWORD)")
    elif isinstance(exc, smtplib.SMTPResponseException):
        why = f"answered {_reply(exc.smtp_code, exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPNotSupportedError) and "SMTPUTF8" in str(exc):
        return EngineUnavailable(f"{server} cannot take a non-ASCII address (no SMTPUTF8)", retryable=False)
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        why = f"does not support what we asked: {exc} (check MILO_SMTP_SECURITY and MILO_SMTP_USER)"
    elif isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        why = f"did not answer within {config.timeout:g} s"  # smtplib reports a read timeout as a close
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        why = f"closed the connection ({exc or 'no reason given'})"
    elif isinstance(exc, ssl.SSLError):
        why = f"failed the TLS handshake: {exc.reason or exc} (check MILO_SMTP_SECURITY and the certificate)"
    elif isinstance(exc, ConnectionRefusedError):
        why = "refused the connection (nothing listens there)"
    elif isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException):
        why = f"is unreachable: {exc.strerror or type(exc).__name__}"
    else:
        why = f"failed: {type(exc).__name__}: {exc}"
    return EngineUnavailable(f"{server} {why}", retryable=True)
