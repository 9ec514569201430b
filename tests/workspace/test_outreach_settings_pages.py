"""Settings > Outreach (issue 16): the company's guardrails saved and applied, bad input refused per
field with nothing saved, viewers kept out, changes audited, and the providers' setup shown without
secrets. The providers' failures on this page: tests/outreach/test_provider_failures.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach import guardrails
from milo_voice.outreach.compose import live_rules, policy, rules_from
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.dispatch import dispatch_due
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.settings_store import OutreachSettingsStore
from milo_voice.outreach.types import ChannelName, Decision, MessageKind
from milo_voice.settings import Secret, Settings
from milo_voice.store.tables import MessageStatus
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import ADMIN, PASSWORD, form_token, login

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


def test_the_saved_switch_reaches_the_live_policy_and_the_log_says_why(
    admin: TestClient, store: SessionStore, settings: Settings
) -> None:
    interviews = Interviews(store.engine)
    slug = interviews.publish(interviews.create(
        InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),))).slug).slug
    person = Candidates(store.engine).add(slug=slug, name="Casey", email="casey@example.com")
    outbox = Outbox(store.engine)
    made = outbox.schedule(candidate_id=person.id or 0, kind=MessageKind.REMINDER_NOT_STARTED,
                           channel=ChannelName.EMAIL, dedupe_key="switch", recipient="casey@example.com",
                           subject="Reminder", body_text="Your link: https://milo.test/i/x",
                           due_at=datetime(2026, 12, 8, 11, tzinfo=UTC))
    assert made is not None
    rules = live_rules(OutreachSettingsStore(store.engine), rules_from(settings), ttl=0.0)
    assert rules().enabled  # the defaults: nothing saved yet
    assert post(admin, communications_off="on", **GOOD).status_code == 303  # type: ignore[attr-defined]
    done = dispatch_due(outbox, policy(Contacts(store.engine), rules), {},
                        now=datetime(2026, 12, 8, 12, tzinfo=UTC))  # a Tuesday, noon in the window
    assert done.suppressed == 1
    message, events = outbox.log(person.id or 0)[0]
    assert message.status == MessageStatus.SUPPRESSED
    assert message.reason == "candidate communications are turned off for the company"
    assert [(e.state, e.detail.get("reason")) for e in events][-1] == ("suppressed", message.reason)


def test_the_page_shows_the_setup_without_secrets(store: SessionStore, settings: Settings) -> None:
    configured = replace(settings, smtp_host="smtp.acme.test", smtp_port=587, smtp_user="mailer",
                         smtp_password=Secret("smtp-Pa55"), smtp_from="jobs@acme.test",
                         twilio_account_sid=SID, twilio_auth_token=Secret(TOKEN), sms_from=FROM,
                         public_url="https://jobs.acme.test/")
    Accounts(store.engine).create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada")
    with TestClient(create_app(configured, store.engine), base_url="https://jobs.acme.test") as client:
        login(client, ADMIN)
        text = client.get(PAGE).text
    assert "smtp.acme.test:587 (starttls)" in text and "jobs@acme.test" in text and "mailer" in text
    assert f"from {FROM}, account AC11…1111" in text
    assert "https://jobs.acme.test/sms/inbound" in text and "https://jobs.acme.test/sms/status" in text
    assert "smtp-Pa55" not in text and TOKEN not in text and SID not in text
