"""A real SMTP server (aiosmtpd) on 127.0.0.1, on its own thread, that keeps what it receives.

`FakeSmtpServer()` takes mail in plain text. With `tls=` (a `TlsFiles` from `self_signed`, made with
`cryptography` for 127.0.0.1) it offers STARTTLS, or speaks TLS from the first byte with
`implicit_tls=True`; with `user=`/`password=` it requires AUTH (only over TLS, as aiosmtpd insists).
`refuse` maps a recipient address to the reply its RCPT TO gets (e.g. "550 5.1.1 User unknown").
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd warns about its own deprecated login_data


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    """PEM certificate for 127.0.0.1 and localhost; also the CA file a client trusts."""
    key: Path


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    """The message exactly as it came over DATA."""
    login: str
    """The user it authenticated as ("" without AUTH)."""
    tls: bool
    """Over STARTTLS or implicit TLS."""

    @property
    def email(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def self_signed(folder: Path) -> TlsFiles:
    """A self-signed EC certificate for 127.0.0.1 and localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "milo test smtp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(folder / "smtp-cert.pem", folder / "smtp-key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return files


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, server: FakeSmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, smtp: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self.server.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        tls = self.server.implicit_tls or session.ssl is not None
        self.server.received.append(Received(mail_from=str(envelope.mail_from),
                                             rcpt_tos=list(envelope.rcpt_tos), data=content,
                                             login=login, tls=tls))
        return "250 2.0.0 Ok: queued"


class FakeSmtpServer:
    def __init__(self, *, tls: TlsFiles | None = None, implicit_tls: bool = False, user: str = "",
                 password: str = "", refuse: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.refuse = dict(refuse or {})
        self.user, self.password, self.implicit_tls = user, password, implicit_tls
        kwargs: dict[str, Any] = {}
        context = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.cert, tls.key)
        if context is not None and implicit_tls:
            kwargs["ssl_context"] = context
        elif context is not None:
            kwargs.update(tls_context=context, require_starttls=True)
        if user:  # aiosmtpd counts only STARTTLS as TLS: over implicit TLS, AUTH is offered, not required
            kwargs.update(authenticator=self._authenticate, auth_required=not implicit_tls,
                          auth_require_tls=not implicit_tls)
        self.controller = Controller(_Handler(self), hostname=HOST, port=self.port,
                                     server_hostname="smtp.test", ready_timeout=10.0, **kwargs)

    def _authenticate(self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def __enter__(self) -> FakeSmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
