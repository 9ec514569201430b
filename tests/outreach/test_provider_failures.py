"""Provider failures through the real channels (issue 16): a real aiosmtpd that requires AUTH and gets
a wrong password, and the loopback Twilio answering 400 (Twilio's error JSON, 21211), 401 (a wrong
token) and 503. Each message goes through `dispatch_due`; the message log (`outreach_event`) must
carry an error that says what the provider said and what to check, the message must be retried
(503, a refused login, a refused token) or failed at once (400), and Settings > Outreach must show
it with what became of the message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.smtp_server import HOST, FakeSmtpServer, TlsFiles, self_signed
from fakes.twilio_rest import FakeTwilioRest
from starlette.testclient import TestClient
from workspace.support import ADMIN, PASSWORD, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.dispatch import RETRY_DELAYS, dispatch_due
from milo_voice.outreach.email_channel import EmailChannel, Security, SmtpConfig
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.provider_health import Outcome, Problem, ProviderHealth
from milo_voice.outreach.sms_channel import SmsChannel, SmsConfig
from milo_voice.outreach.types import Channel, ChannelName, Decision, MessageKind, Verdict
from milo_voice.settings import Secret, Settings
from milo_voice.store.tables import MessageStatus, OutreachEvent, OutreachMessage
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews

PAGE = "/app/settings/outreach"
SID, TOKEN, FROM = "AC" + "1" * 32, "twilio-token", "+14155550199"
SMTP_USER, SMTP_PASSWORD, WRONG_PASSWORD = "mailer", "right-Pa55", "wrong-Pa55"


class Clock:
    """A settable UTC clock for the outbox, so a retry's backoff can be waited out at once."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def past(self, moment: datetime) -> datetime:
        """Move just past `moment` (a retry's next attempt)."""
        self.at = moment + timedelta(seconds=1)
        return self.at


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp(tls: TlsFiles) -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(tls=tls, user=SMTP_USER, password=SMTP_PASSWORD) as server:
        yield server


@pytest.fixture
def twilio() -> Iterator[FakeTwilioRest]:
    with FakeTwilioRest(account_sid=SID, auth_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC) - timedelta(hours=4))  # every attempt below lands in the past


@pytest.fixture
def admin(settings: Settings, store: SessionStore) -> Iterator[TestClient]:
    Accounts(store.engine).create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as client:
        login(client, ADMIN)
        yield client


def email_channel(smtp: FakeSmtpServer, tls: TlsFiles, password: str) -> EmailChannel:
    return EmailChannel(SmtpConfig(host=HOST, port=smtp.port, security=Security.STARTTLS, user=SMTP_USER,
                                   password=Secret(password), from_address="jobs@acme.test",
                                   ca_file=str(tls.cert), timeout=5.0, local_hostname="localhost"))


@pytest.fixture
def sms(twilio: FakeTwilioRest) -> Iterator[Callable[[str], SmsChannel]]:
    made: list[SmsChannel] = []

    def channel(token: str = TOKEN) -> SmsChannel:
        made.append(SmsChannel(SmsConfig(account_sid=SID, auth_token=Secret(token), from_number=FROM,
                                         api_url=twilio.base_url, timeout=2.0)))
        return made[-1]

    yield channel
    for one in made:
        one.close()


def schedule(store: SessionStore, clock: Clock, channel: ChannelName, recipient: str, key: str) -> int:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title=f"Barista {key}", questions=(QuestionForm("Why coffee?"),)))
    slug = interviews.publish(row.slug).slug
    person = Candidates(store.engine).add(slug=slug, name=f"Casey {key}", email=f"{key}@example.com")
    made = Outbox(store.engine, now=clock).schedule(
        candidate_id=person.id or 0, kind=MessageKind.REMINDER_NOT_STARTED, channel=channel, dedupe_key=key,
        recipient=recipient, subject="Reminder", body_text=f"Your link: https://milo.test/i/{key}",
        due_at=clock() - timedelta(seconds=1))
    assert made is not None
    return made


def always(message: OutreachMessage, history: list[OutreachMessage], now: datetime) -> Verdict:
    return Verdict(Decision.SEND, "test: the policy is not under test here")


def send_due(store: SessionStore, clock: Clock, channels: dict[ChannelName, Channel]) -> None:
    dispatch_due(Outbox(store.engine, now=clock), always, channels, now=clock())


def events(store: SessionStore, message_id: int) -> list[OutreachEvent]:
    message = Outbox(store.engine).get(message_id)
    log = dict((m.id, e) for m, e in Outbox(store.engine).log(message.candidate_id))
    return [e for e in log[message_id] if e.state in ("retry", "failed", "sent")]


def problems_of(store: SessionStore, clock: Clock, message_id: int) -> list[Problem]:
    return [p for p in ProviderHealth(store.engine, now=clock).problems() if p.message_id == message_id]


def test_a_refused_smtp_login_is_logged_clearly_retried_and_fails_when_the_retries_run_out(
    store: SessionStore, clock: Clock, smtp: FakeSmtpServer, tls: TlsFiles
) -> None:
    message = schedule(store, clock, ChannelName.EMAIL, "casey@example.com", "email-auth")
    channels: dict[ChannelName, Channel] = {ChannelName.EMAIL: email_channel(smtp, tls, WRONG_PASSWORD)}
    send_due(store, clock, channels)
    [first] = events(store, message)
    error = first.detail["error"]
    assert first.state == "retry" and error.startswith(f"SMTP server {HOST}:{smtp.port} refused the login of")
    assert "535 5.7.8 Authentication credentials invalid" in error
    assert error.endswith("(SMTP authentication failed: check MILO_SMTP_USER and MILO_SMTP_PASSWORD)")
    assert WRONG_PASSWORD not in error and SMTP_PASSWORD not in error
    assert datetime.fromisoformat(first.detail["until"]) == clock() + RETRY_DELAYS[0]
    row = Outbox(store.engine).get(message)
    assert (row.status, row.attempts, row.reason) == (MessageStatus.SCHEDULED, 1, error)
    [problem] = problems_of(store, clock, message)
    assert problem.outcome is Outcome.WILL_RETRY and problem.retry_at == clock() + RETRY_DELAYS[0]
    assert problem.error == error and problem.candidate_name == "Casey email-auth"

    for _ in RETRY_DELAYS:  # nobody fixed the password: every backoff is waited out
        clock.past(Outbox(store.engine).get(message).due_at)
        send_due(store, clock, channels)
    row = Outbox(store.engine).get(message)
    assert (row.status, row.attempts) == (MessageStatus.FAILED, len(RETRY_DELAYS) + 1)
    assert [e.state for e in events(store, message)] == ["retry"] * len(RETRY_DELAYS) + ["failed"]
    newest, *older = problems_of(store, clock, message)
    assert newest.final and "SMTP authentication failed" in newest.error
    assert {p.outcome for p in older} == {Outcome.RETRIED_STOPPED}
    assert smtp.received == []


def test_a_fixed_smtp_password_sends_on_the_next_attempt(
    store: SessionStore, clock: Clock, smtp: FakeSmtpServer, tls: TlsFiles
) -> None:
    message = schedule(store, clock, ChannelName.EMAIL, "casey@example.com", "email-fixed")
    send_due(store, clock, {ChannelName.EMAIL: email_channel(smtp, tls, WRONG_PASSWORD)})
    clock.past(Outbox(store.engine).get(message).due_at)
    send_due(store, clock, {ChannelName.EMAIL: email_channel(smtp, tls, SMTP_PASSWORD)})
    assert Outbox(store.engine).get(message).status == MessageStatus.SENT
    assert [r.login for r in smtp.received] == [SMTP_USER]
    [problem] = problems_of(store, clock, message)
    assert problem.outcome is Outcome.RETRIED_SENT and problem.status == MessageStatus.SENT


def test_twilio_400_fails_at_once_with_twilios_code_and_message(
    store: SessionStore, clock: Clock, twilio: FakeTwilioRest, sms: Callable[[str], SmsChannel]
) -> None:
    message = schedule(store, clock, ChannelName.SMS, "555-0100", "sms-bad-number")
    send_due(store, clock, {ChannelName.SMS: sms(TOKEN)})
    [failed] = events(store, message)
    assert failed.state == "failed" and failed.detail["error"] == (
        "Twilio refused the SMS to 555-0100: error 21211: The 'To' number 555-0100 is not a valid phone "
        "number. (HTTP 400, https://www.twilio.com/docs/errors/21211)")
    row = Outbox(store.engine).get(message)
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 1)
    [problem] = problems_of(store, clock, message)
    assert problem.final and problem.retry_at is None and problem.channel == ChannelName.SMS
    assert twilio.messages == []


def test_twilio_503_is_retried_and_sent_once_twilio_is_back(
    store: SessionStore, clock: Clock, twilio: FakeTwilioRest, sms: Callable[[str], SmsChannel]
) -> None:
    message = schedule(store, clock, ChannelName.SMS, "+14155550123", "sms-outage")
    channels: dict[ChannelName, Channel] = {ChannelName.SMS: sms(TOKEN)}
    twilio.outage = 503
    send_due(store, clock, channels)
    [retry] = events(store, message)
    assert retry.state == "retry" and retry.detail["error"] == (
        "Twilio refused the SMS to +14155550123: error 20503: Service is unavailable. Please try again "
        "(HTTP 503, https://www.twilio.com/docs/errors/20503) (a fault on Twilio's side, not in this setup: "
        "see status.twilio.com)")
    assert Outbox(store.engine).get(message).status == MessageStatus.SCHEDULED
    [problem] = problems_of(store, clock, message)
    assert problem.outcome is Outcome.WILL_RETRY and not problem.final

    twilio.outage = 0
    clock.past(Outbox(store.engine).get(message).due_at)
    send_due(store, clock, channels)
    assert [e.state for e in events(store, message)] == ["retry", "sent"]
    assert [m["to"] for m in twilio.messages] == ["+14155550123"]
    assert problems_of(store, clock, message)[0].outcome is Outcome.RETRIED_SENT


def test_a_wrong_twilio_token_is_retried_and_says_what_to_check(
    store: SessionStore, clock: Clock, twilio: FakeTwilioRest, sms: Callable[[str], SmsChannel]
) -> None:
    message = schedule(store, clock, ChannelName.SMS, "+14155550124", "sms-token")
    send_due(store, clock, {ChannelName.SMS: sms("not-the-token")})
    [retry] = events(store, message)
    assert retry.state == "retry" and "error 20003: Authenticate (HTTP 401" in retry.detail["error"]
    assert "check MILO_TWILIO_ACCOUNT_SID and MILO_TWILIO_AUTH_TOKEN" in retry.detail["error"]
    assert "not-the-token" not in retry.detail["error"]


def test_the_settings_page_shows_each_problem_with_what_became_of_it(
    admin: TestClient, store: SessionStore, clock: Clock, smtp: FakeSmtpServer, tls: TlsFiles,
    twilio: FakeTwilioRest, sms: Callable[[str], SmsChannel]
) -> None:
    texts: dict[ChannelName, Channel] = {ChannelName.SMS: sms(TOKEN)}
    bad_number = schedule(store, clock, ChannelName.SMS, "555-0100", "sms-bad-number")
    send_due(store, clock, texts)
    twilio.outage = 503
    outage = schedule(store, clock, ChannelName.SMS, "+14155550123", "sms-outage")
    send_due(store, clock, texts)
    twilio.outage = 0
    clock.past(Outbox(store.engine).get(outage).due_at)
    login_refused = schedule(store, clock, ChannelName.EMAIL, "casey@example.com", "email-auth")
    send_due(store, clock, {**texts, ChannelName.EMAIL: email_channel(smtp, tls, WRONG_PASSWORD)})

    page = admin.get(PAGE)
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "Email: 1 problem in the last 24 h (1 retried, 0 failed for good), last: SMTP server" in text
    assert "SMS: 2 problems in the last 24 h (1 retried, 1 failed for good), last: Twilio refused" in text
    assert "SMTP authentication failed: check MILO_SMTP_USER and MILO_SMTP_PASSWORD" in text
    assert "error 21211: The &#39;To&#39; number 555-0100 is not a valid phone number." in text
    assert "error 20503" in text and "failed for good" in text and ", then sent" in text
    for message in (login_refused, bad_number, outage):
        candidate = Outbox(store.engine).get(message).candidate_id
        assert f'<a href="/app/candidates/{candidate}">' in text
    assert WRONG_PASSWORD not in text and TOKEN not in text


def test_a_delivery_report_of_undelivered_is_a_final_problem_with_twilios_code(
    store: SessionStore, clock: Clock, twilio: FakeTwilioRest, sms: Callable[[str], SmsChannel]
) -> None:
    message = schedule(store, clock, ChannelName.SMS, "+14155550125", "sms-undelivered")
    send_due(store, clock, {ChannelName.SMS: sms(TOKEN)})
    sid = Outbox(store.engine).get(message).provider_id
    Outbox(store.engine, now=clock).delivery(provider_id=sid, state="undelivered",
                                             detail={"provider_id": sid, "error": "30003"})
    [problem] = problems_of(store, clock, message)
    assert problem.final and problem.error == "the provider reported the message undelivered (error 30003)"
    [line] = [h for h in ProviderHealth(store.engine, now=clock).summary() if h.channel == ChannelName.SMS]
    assert line.line == ("SMS: 1 problem in the last 24 h (0 retried, 1 failed for good), last: the provider "
                         "reported the message undelivered (error 30003)")
