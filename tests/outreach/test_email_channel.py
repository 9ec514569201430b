"""EmailChannel against a real SMTP server on loopback (aiosmtpd): headers, both parts, UTF-8,
STARTTLS / implicit TLS with AUTH, and how failures map to retryable or final errors."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from fakes.smtp_server import HOST, FakeSmtpServer, TlsFiles, free_port, self_signed

from milo_voice.errors import ConfigError, EngineUnavailable
from milo_voice.outreach.email_channel import (
    ONE_CLICK,
    EmailChannel,
    Security,
    SmtpConfig,
    build_email,
    message_id,
    reference_of,
)
from milo_voice.outreach.types import ChannelName, Rendered
from milo_voice.settings import Settings

TEXT = "Hi Zoë,\n\nYour interview for Café – Barista is ready: https://milo.test/i/tok\n"
HTML = "<p>Hi Zoë,</p><p>Your interview for Café – Barista is <a href=\"https://milo.test/i/tok\">ready</a></p>"
PASSWORD = "s3cret-Pa55"


def message(**changes: str) -> Rendered:
    values = {"recipient": "zoe@example.com", "subject": "Zoë – Café: your interview", "body_text": TEXT,
              "body_html": HTML, "unsubscribe_url": "https://milo.test/u/tok", "reference": "milo-42"}
    values.update(changes)
    return Rendered(channel=ChannelName.EMAIL, **values)


def config(port: int, **changes: object) -> SmtpConfig:
    values: dict[str, object] = {"host": HOST, "port": port, "security": Security.NONE,
                                 "from_address": "interviews@acme.test", "from_name": "Zoë at Acmé",
                                 "timeout": 5.0, "local_hostname": "localhost"}
    values.update(changes)
    return SmtpConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def plain() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(refuse={"gone@example.com": "550 5.1.1 <gone@example.com>: User unknown",
                                "busy@example.com": "450 4.2.1 Mailbox busy, try later"}) as server:
        yield server


def test_the_email_arrives_with_its_headers_both_parts_and_utf8(plain: FakeSmtpServer) -> None:
    receipt = EmailChannel(config(plain.port)).send(message())

    [got] = plain.received
    assert (got.mail_from, got.rcpt_tos, got.login, got.tls) == ("interviews@acme.test", ["zoe@example.com"],
                                                                  "", False)
    email = got.email
    assert str(email["From"]) == "Zoë at Acmé <interviews@acme.test>"
    assert str(email["To"]) == "zoe@example.com"
    assert str(email["Subject"]) == "Zoë – Café: your interview"
    assert str(email["List-Unsubscribe"]) == "<https://milo.test/u/tok>"
    assert str(email["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click" == ONE_CLICK
    assert str(email["Message-ID"]) == receipt.provider_id
    assert receipt.provider_id.startswith("<milo-42.") and receipt.provider_id.endswith("@acme.test>")
    assert reference_of(receipt.provider_id) == "milo-42"
    assert receipt.status == "sent"
    assert abs((parsedate_to_datetime(str(email["Date"])) - datetime.now(UTC)).total_seconds()) < 60
    assert email.get_content_type() == "multipart/alternative"
    text, html = email.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content().replace("\r\n", "\n") == TEXT  # CRLF on the wire, as SMTP wants
    assert html.get_content().strip() == HTML
    assert got.data.isascii(), "headers encoded, parts quoted-printable: any server takes the bytes"


def test_a_text_only_message_without_unsubscribe_link_is_one_plain_part(plain: FakeSmtpServer) -> None:
    EmailChannel(config(plain.port)).send(message(body_html="", unsubscribe_url=""))
    email = plain.received[0].email
    assert email.get_content_type() == "text/plain"
    assert email.get_content().replace("\r\n", "\n") == TEXT
    assert email["List-Unsubscribe"] is None and email["List-Unsubscribe-Post"] is None


def test_the_message_id_is_stable_for_a_message_and_carries_its_reference() -> None:
    assert message_id(message(), "acme.test") == message_id(message(), "acme.test")
    assert message_id(message(), "acme.test") != message_id(message(body_text="another link"), "acme.test")
    built = build_email(message(), config(25))
    assert str(built["Message-ID"]) == message_id(message(), "acme.test")
    assert reference_of("<CAF=abc@mail.gmail.com>") == ""
    unreferenced = message_id(message(reference=""), "acme.test")
    assert unreferenced.endswith("@acme.test>") and reference_of(unreferenced) == ""


@pytest.mark.parametrize("password", [PASSWORD, "pässwörd-Zoë"])
def test_starttls_then_auth(tls: TlsFiles, password: str) -> None:
    with FakeSmtpServer(tls=tls, user="mailer", password=password) as server:
        channel = EmailChannel(config(server.port, security=Security.STARTTLS, user="mailer",
                                      password=password, ca_file=str(tls.cert)))
        channel.send(message())
    [got] = server.received
    assert (got.tls, got.login) == (True, "mailer")
    assert str(got.email["Subject"]) == "Zoë – Café: your interview"


def test_implicit_tls_with_auth(tls: TlsFiles) -> None:
    with FakeSmtpServer(tls=tls, implicit_tls=True, user="mailer", password=PASSWORD) as server:
        EmailChannel(config(server.port, security=Security.TLS, user="mailer", password=PASSWORD,
                            ca_file=str(tls.cert))).send(message())
    assert [(got.tls, got.login) for got in server.received] == [(True, "mailer")]


def test_a_refused_login_is_retryable_and_never_shows_the_password(tls: TlsFiles) -> None:
    with FakeSmtpServer(tls=tls, user="mailer", password=PASSWORD) as server:
        channel = EmailChannel(config(server.port, security=Security.STARTTLS, user="mailer",
                                      password="wrong-Pa55word", ca_file=str(tls.cert)))
        with pytest.raises(EngineUnavailable) as caught:
            channel.send(message())
    said = str(caught.value)
    assert caught.value.retryable
    assert f"SMTP server {HOST}:{server.port} refused the login of 'mailer': 535" in said
    assert "wrong-Pa55word" not in said and PASSWORD not in said
    assert server.received == []


def test_an_untrusted_certificate_or_a_server_without_starttls_is_a_retryable_setup_fault(
    tls: TlsFiles, plain: FakeSmtpServer
) -> None:
    with FakeSmtpServer(tls=tls) as server, pytest.raises(EngineUnavailable) as untrusted:
        EmailChannel(config(server.port, security=Security.STARTTLS)).send(message())  # system CAs only
    assert untrusted.value.retryable
    assert "TLS handshake" in str(untrusted.value) and "CERTIFICATE_VERIFY_FAILED" in str(untrusted.value)
    with pytest.raises(EngineUnavailable) as no_starttls:
        EmailChannel(config(plain.port, security=Security.STARTTLS)).send(message())
    assert no_starttls.value.retryable
    assert "STARTTLS" in str(no_starttls.value) and "MILO_SMTP_SECURITY" in str(no_starttls.value)
    assert plain.received == []


@pytest.mark.parametrize(("recipient", "retryable", "reply"), [
    ("gone@example.com", False, "550 5.1.1 <gone@example.com>: User unknown"),
    ("busy@example.com", True, "450 4.2.1 Mailbox busy, try later"),
])
def test_a_refused_recipient_fails_for_good_on_5xx_and_retries_on_4xx(
    plain: FakeSmtpServer, recipient: str, retryable: bool, reply: str
) -> None:
    with pytest.raises(EngineUnavailable) as caught:
        EmailChannel(config(plain.port)).send(message(recipient=recipient))
    assert caught.value.retryable is retryable
    assert str(caught.value) == f"SMTP server {HOST}:{plain.port} refused the recipient {recipient}: {reply}"
    assert plain.received == []


def test_a_server_that_is_down_is_retryable() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(EngineUnavailable) as caught:
        EmailChannel(config(port)).send(message())
    assert caught.value.retryable
    assert str(caught.value) == f"SMTP server {HOST}:{port} refused the connection (nothing listens there)"


def test_a_server_that_never_greets_times_out_and_is_retryable() -> None:
    with socket.create_server((HOST, 0)) as silent:  # accepts into its backlog, never answers
        port = silent.getsockname()[1]
        with pytest.raises(EngineUnavailable) as caught:
            EmailChannel(config(port, timeout=0.3)).send(message())
    assert caught.value.retryable
    assert str(caught.value) == f"SMTP server {HOST}:{port} did not answer within 0.3 s"


def test_a_header_with_a_line_break_is_refused_before_connecting() -> None:
    with pytest.raises(EngineUnavailable) as caught:
        EmailChannel(config(free_port())).send(message(subject="Hi\r\nBcc: everyone@example.com"))
    assert not caught.value.retryable
    assert "cannot be built" in str(caught.value)


def test_the_config_comes_from_the_milo_smtp_settings(tmp_path: Path) -> None:
    assert SmtpConfig.from_settings(Settings()) is None  # no host: email is off
    settings = Settings.from_env({"MILO_SMTP_HOST": "smtp.acme.test", "MILO_SMTP_SECURITY": "tls",
                                  "MILO_SMTP_USER": "mailer", "MILO_SMTP_PASSWORD": PASSWORD,
                                  "MILO_SMTP_FROM": "jobs@acme.test", "MILO_SMTP_FROM_NAME": "Acme Jobs"})
    made = SmtpConfig.from_settings(settings)
    assert made is not None
    assert (made.host, made.port_used, made.security, made.user, made.from_address, made.from_name) == (
        "smtp.acme.test", 465, Security.TLS, "mailer", "jobs@acme.test", "Acme Jobs")
    assert made.password == PASSWORD and PASSWORD not in repr(made)
    assert SmtpConfig(host="h", from_address="a@b").port_used == 587
    assert SmtpConfig(host="h", from_address="a@b", port=2525).port_used == 2525


@pytest.mark.parametrize(("environ", "named"), [
    ({"MILO_SMTP_SECURITY": "ssl"}, "MILO_SMTP_SECURITY"),
    ({"MILO_SMTP_PORT": "70000"}, "MILO_SMTP_PORT"),
    ({"MILO_SMTP_HOST": "smtp.acme.test"}, "MILO_SMTP_FROM"),
    ({"MILO_SMTP_PASSWORD": "x"}, "MILO_SMTP_USER"),
])
def test_bad_smtp_settings_are_refused_by_name(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(environ)
