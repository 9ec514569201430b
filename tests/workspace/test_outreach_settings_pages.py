"""Settings > Outreach (issue 16): the company's guardrails saved and applied, bad input refused,
and the providers' failures (a refused SMTP login on a real aiosmtpd, Twilio's 400 and 503 from the
loopback Twilio) shown in the message log and on the page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.smtp_server import HOST, FakeSmtpServer, TlsFiles, self_signed
from fakes.twilio_rest import FakeTwilioRest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach import guardrails
from milo_voice.outreach.dispatch import dispatch_due
from milo_voice.outreach.email_channel import EmailChannel, Security, SmtpConfig
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.provider_health import ProviderHealth
from milo_voice.outreach.settings_store import OutreachSettingsStore
from milo_voice.outreach.sms_channel import SmsChannel, SmsConfig
from milo_voice.outreach.types import Channel, ChannelName, Decision, MessageKind, Verdict
from milo_voice.settings import Secret
from milo_voice.store.tables import MessageStatus, OutreachMessage
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import form_token

PAGE = "/app/settings/outreach"
SID, TOKEN, FROM = "AC" + "1" * 32, "twilio-token", "+14155550199"
GOOD = {"window_start": "8", "window_end": "19", "daily_cap": "2", "max_reminders": "2",
        "sms_gap_minutes": "90", "nudge_gap_hours": "48"}


def post(client: TestClient, **fields: str) -> object:
    return client.post(PAGE, data={"csrf_token": form_token(client, PAGE), **fields}, follow_redirects=False)


def test_saved_guardrails_are_shown_and_the_company_switch_suppresses_with_its_reason(
    admin: TestClient, store: SessionStore
) -> None:
    page = admin.get(PAGE)
    assert page.status_code == 200 and "Turn off all candidate communications" in page.text
    assert "Showing the defaults" in page.text and "/sms/inbound" in page.text
    saved = post(admin, communications_off="on", weekends="on", **GOOD)
    assert saved.status_code == 303  # type: ignore[attr-defined]
    rules = OutreachSettingsStore(store.engine).rules(guardrails.Rules(company_zone="Europe/Paris"))
    assert (rules.enabled, rules.weekends, rules.window_start, rules.window_end) == (False, True, 8, 19)
    assert (rules.sms_gap, rules.nudge_gap, rules.company_zone) == (
        timedelta(minutes=90), timedelta(hours=48), "Europe/Paris")
    verdict = guardrails.decide(MessageKind.REMINDER_NOT_STARTED, ChannelName.EMAIL, guardrails.Contact(), [],
                                datetime(2026, 12, 8, 12, tzinfo=UTC), rules)
    assert verdict.decision is Decision.SUPPRESS and "communications" in verdict.reason.lower()
    again = admin.get(PAGE)
    assert 'name="communications_off" checked' in again.text and 'value="90"' in again.text
    event = Audit(store.engine).recent(target_type="outreach_settings")[0]
    assert event.detail["before"]["enabled"] is True and event.detail["after"]["enabled"] is False


@pytest.mark.parametrize(("field", "value", "said"), [
    ("window_end", "8", "must end after it starts"),
    ("daily_cap", "0", "Messages per candidate per day: a whole number from 1 to 20"),
    ("sms_gap_minutes", "-5", "Minutes between two texts"),
    ("max_reminders", "three", "Reminders per candidate"),
])
def test_bad_input_is_refused_per_field_and_nothing_is_saved(
    admin: TestClient, store: SessionStore, field: str, value: str, said: str
) -> None:
    response = post(admin, **{**GOOD, field: value})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert said in response.text  # type: ignore[attr-defined]
    assert f'value="{value}"' in response.text  # type: ignore[attr-defined]  # what was typed stays
    assert not OutreachSettingsStore(store.engine).saved_rules()


def test_a_viewer_sees_the_page_but_cannot_save(viewer: TestClient, store: SessionStore) -> None:
    assert "Only admins change these" in viewer.get(PAGE).text
    assert post(viewer, communications_off="on", **GOOD).status_code == 403  # type: ignore[attr-defined]
    assert not OutreachSettingsStore(store.engine).saved_rules()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def twilio() -> Iterator[FakeTwilioRest]:
    with FakeTwilioRest(account_sid=SID, auth_token=TOKEN) as fake:
        yield fake


def schedule(store: SessionStore, channel: ChannelName, recipient: str, key: str) -> int:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title=f"Barista {key}", questions=(QuestionForm("Why coffee?"),)))
    slug = interviews.publish(row.slug).slug
    person = Candidates(store.engine).add(slug=slug, name=f"Casey {key}", email=f"{key}@example.com")
    made = Outbox(store.engine).schedule(
        candidate_id=person.id or 0, kind=MessageKind.REMINDER_NOT_STARTED, channel=channel, dedupe_key=key,
        recipient=recipient, subject="Reminder", body_text="Your link: https://milo.test/i/x",
        due_at=datetime.now(UTC) - timedelta(seconds=1))
    assert made is not None
    return made


def send_all(decide_now: datetime, store: SessionStore, channels: dict[ChannelName, Channel]) -> None:
    def always(message: OutreachMessage, history: list[OutreachMessage], now: datetime) -> Verdict:
        return Verdict(Decision.SEND, "test: the policy is not under test here")

    dispatch_due(Outbox(store.engine), always, channels, now=decide_now)


def test_provider_failures_show_in_the_log_and_on_the_settings_page(
    admin: TestClient, store: SessionStore, tls: TlsFiles, twilio: FakeTwilioRest
) -> None:
    auth_fail = schedule(store, ChannelName.EMAIL, "casey@example.com", "email-auth")
    bad_number = schedule(store, ChannelName.SMS, "555-0100", "sms-bad-number")
    with FakeSmtpServer(tls=tls, user="mailer", password="right-Pa55") as smtp:
        email = EmailChannel(SmtpConfig(host=HOST, port=smtp.port, security=Security.STARTTLS, user="mailer",
                                        password=Secret("wrong-Pa55"), from_address="jobs@acme.test",
                                        ca_file=str(tls.cert), timeout=5.0, local_hostname="localhost"))
        sms = SmsChannel(SmsConfig(account_sid=SID, auth_token=Secret(TOKEN), from_number=FROM,
                                   api_url=twilio.base_url, timeout=2.0))
        try:
            send_all(datetime.now(UTC), store, {ChannelName.EMAIL: email, ChannelName.SMS: sms})
            twilio.outage = 503
            outage = schedule(store, ChannelName.SMS, "+14155550123", "sms-outage")
            send_all(datetime.now(UTC), store, {ChannelName.EMAIL: email, ChannelName.SMS: sms})
        finally:
            sms.close()
    outbox = Outbox(store.engine)
    login = outbox.get(auth_fail)
    assert login.status == MessageStatus.SCHEDULED and "SMTP authentication failed" in login.reason  # retried
    assert "wrong-Pa55" not in login.reason
    refused = outbox.get(bad_number)
    assert refused.status == MessageStatus.FAILED and "error 21211" in refused.reason  # final
    down = outbox.get(outage)
    assert down.status == MessageStatus.SCHEDULED and "error 20503" in down.reason
    problems = ProviderHealth(store.engine).problems()
    found = {(p.message_id, p.final) for p in problems}
    assert found == {(auth_fail, False), (bad_number, True), (outage, False)}
    page = admin.get(PAGE)
    assert "SMTP authentication failed" in page.text and "21211" in page.text and "20503" in page.text
    assert "failed for good" in page.text and "retried" in page.text
    assert "Email: 1 problem in the last 24 h" in page.text
    assert "SMS: 2 problems in the last 24 h" in page.text
    assert "wrong-Pa55" not in page.text and TOKEN not in page.text
