"""End to end, real SMTP (aiosmtpd) and the loopback Twilio: a recruiter adds a candidate on the
workspace page, the outreach worker (as `serve` builds it from the settings) plans and sends the
invitation: an email with the candidate's own link and an unsubscribe header, and an SMS; an SMS
opt-out then suppresses the next text, and the company switch suppresses everything, with the
reason on the message log."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fakes.smtp_server import FakeSmtpServer
from fakes.twilio_rest import FakeTwilioRest
from starlette.testclient import TestClient
from workspace.support import PASSWORD, form_token, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.compose import worker_from
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.settings import Secret, Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews

ACCOUNT, TOKEN = "AC" + "1" * 32, "twilio-token"
NOON_LA = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Los Angeles


def configured(settings: Settings, smtp: FakeSmtpServer, twilio: FakeTwilioRest, **more: object) -> Settings:
    return replace(settings, public_url="http://jobs.acme.test", smtp_host="127.0.0.1", smtp_port=smtp.port,
                   smtp_security="none", smtp_from="jobs@acme.test", smtp_from_name="Acme Hiring",
                   twilio_account_sid=ACCOUNT, twilio_auth_token=Secret(TOKEN),
                   twilio_api_url=twilio.base_url,
                   sms_from="+15005550006", sms_invitations=True, company_name="Acme", **more)


@pytest.mark.e2e
def test_adding_a_candidate_sends_the_invitation_by_email_and_sms(
    settings: Settings, store: SessionStore
) -> None:
    with FakeSmtpServer() as smtp, FakeTwilioRest(ACCOUNT, TOKEN) as twilio:
        live = configured(settings, smtp, twilio)
        Accounts(store.engine).create_user(email="ada@example.com", password=PASSWORD, role="admin")
        interviews = Interviews(store.engine)
        slug = interviews.create(InterviewForm(title="Barista", role="Barista",
                                               questions=(QuestionForm("Why coffee?"),))).slug
        interviews.publish(slug)
        app = create_app(live, store.engine, now=lambda: NOON_LA)
        with TestClient(app, base_url="http://testserver") as client:
            login(client, "ada@example.com")
            added = client.post("/app/candidates", data={
                "csrf_token": form_token(client, f"/app/interviews/{slug}"), "interview": slug,
                "name": "Robin Reader", "email": "robin@example.com", "phone": "(415) 555-0100"})
            assert added.status_code == 200
        worker = worker_from(live, store.engine)
        assert worker is not None
        worker.outbox.now = lambda: NOON_LA
        done = worker.run_once()
        assert done.sent == 2, done
        robin = Candidates(store.engine).search(CandidateQuery())[0]
        email = smtp.received[0].email
        assert email["To"] == "robin@example.com" and email["Subject"] == "Your interview for Barista at Acme"
        assert f"http://jobs.acme.test/i/{robin.candidate.token}" in email.get_body(("plain",)).get_content()
        assert str(email["List-Unsubscribe"]).strip() == f"<http://jobs.acme.test/u/{robin.candidate.token}>"
        text = twilio.messages[0]
        assert text["to"] == "+14155550100" and robin.candidate.token in text["body"]
        assert worker.run_once().sent == 0  # planned once, sent once

        Contacts(store.engine).opt_out(robin.candidate.id or 0, ChannelName.SMS)
        outbox = Outbox(store.engine, now=lambda: NOON_LA)
        nudge_key = "nudge:sms:test"
        outbox.schedule(
            candidate_id=robin.candidate.id or 0, kind=MessageKind.NUDGE, channel=ChannelName.SMS,
            dedupe_key=nudge_key, recipient="+14155550100", body_text="Hi: http://jobs.acme.test/i/x",
            due_at=NOON_LA)
        assert worker.run_once().suppressed == 1 and len(twilio.messages) == 1
        worker.stop()


@pytest.mark.e2e
def test_the_company_switch_sends_nothing_and_says_why(settings: Settings, store: SessionStore) -> None:
    with FakeSmtpServer() as smtp, FakeTwilioRest(ACCOUNT, TOKEN) as twilio:
        live = configured(settings, smtp, twilio, outreach_enabled=False)
        interviews = Interviews(store.engine)
        form = InterviewForm(title="Cashier", questions=(QuestionForm("Why retail?"),))
        slug = interviews.create(form).slug
        interviews.publish(slug)
        robin = Candidates(store.engine, now=lambda: NOON_LA).add(
            slug=slug, name="Robin Reader", email="robin@example.com", phone="(415) 555-0100")
        worker = worker_from(live, store.engine)
        assert worker is not None
        worker.outbox.now = lambda: NOON_LA
        assert worker.run_once().suppressed == 2
        worker.stop()
        assert smtp.received == [] and twilio.messages == []
        log = Outbox(store.engine).log(robin.id or 0)
        assert {m.status for m, _ in log} == {"suppressed"}
        assert all("turned off" in m.reason for m, _ in log)
