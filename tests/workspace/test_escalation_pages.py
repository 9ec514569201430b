"""Needs a person (issue 16), end to end: a free-text SMS reply through the real signed webhook and
a finished interview in which the candidate asked for a person both flag the candidate, pause
automation and email the admins through a real SMTP server (aiosmtpd); the queue lists them, the
profile says so, and an admin's Resume clears it (a viewer's does not)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fakes.smtp_server import FakeSmtpServer
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.twilio_signature import signature
from milo_voice.settings import Secret, Settings
from milo_voice.store.tables import AuditEvent
from milo_voice.web.app import create_app
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.escalate import Escalations
from milo_voice.workspace.interviews import Interviews
from workspace.support import ADMIN, form_token, login

TOKEN, BASE = "twilio-auth-token", "https://jobs.acme.test"


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def live(settings: Settings, smtp: FakeSmtpServer) -> Settings:
    return replace(settings, twilio_auth_token=Secret(TOKEN), smtp_host="127.0.0.1", smtp_port=smtp.port,
                   smtp_security="none", smtp_from="jobs@acme.test", public_url="https://jobs.acme.test")


@pytest.fixture
def app_client(live: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(live, store.engine), base_url=BASE) as client:
        yield client


def interview(store: SessionStore) -> tuple[str, int]:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),)))
    version = interviews.publish(row.slug)
    return version.slug, version.id or 0


def test_a_text_reply_flags_the_candidate_emails_the_admins_and_resume_clears_it(
    app_client: TestClient, store: SessionStore, smtp: FakeSmtpServer
) -> None:
    slug, _ = interview(store)
    robin = Candidates(store.engine).add(slug=slug, name="Robin Reader", email="r@example.com",
                                         phone="(415) 555-0100")
    form = {"MessageSid": "SM" + "1" * 32, "From": "+14155550100", "To": "+15005550006",
            "Body": "I'm deaf, can I do this in writing instead?", "AccountSid": "AC1"}
    sig = signature(TOKEN, "https://jobs.acme.test/sms/inbound", sorted(form.items()))  # the public URL
    assert app_client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig}).status_code == 200
    contact = Contacts(store.engine).get(robin.id or 0)
    assert (contact.paused, contact.flag_kind) == (True, "accommodation") and "deaf" in contact.pause_reason
    (mail,) = smtp.received
    assert mail.rcpt_tos == [ADMIN] and "Needs a person: Robin Reader (Barista)" in str(mail.email["Subject"])
    assert f"https://jobs.acme.test/app/candidates/{robin.id}" in mail.email.get_content()
    login(app_client, ADMIN)
    queue = app_client.get("/app/needs-a-person").text
    assert "Robin Reader" in queue and "asked for an accommodation" in queue and "deaf" in queue
    profile = app_client.get(f"/app/candidates/{robin.id}").text
    assert 'id="needs-person"' in profile and "Automatic messages to this candidate are paused" in profile
    done = app_client.post(f"/app/candidates/{robin.id}/resume", data={
        "csrf_token": form_token(app_client, "/app/needs-a-person"), "next": "/app/needs-a-person"},
        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/app/needs-a-person"
    assert not Contacts(store.engine).get(robin.id or 0).paused
    assert "Nobody is waiting for a person" in app_client.get("/app/needs-a-person").text
    event: AuditEvent = Audit(store.engine).recent(target_type="candidate", target_id=robin.id)[0]
    assert event.action == "resume_outreach" and event.detail["flag"] == "accommodation"


def test_an_interview_in_which_the_candidate_asked_for_a_person_flags_them_once(
    live: Settings, store: SessionStore, smtp: FakeSmtpServer, users: dict[str, int]
) -> None:
    slug, version_id = interview(store)
    sam = Candidates(store.engine).add(slug=slug, name="Sam Lee", email="s@example.com")
    sid = store.start_session(candidate_id=sam.id or 0, interview_id=version_id, channel="webrtc",
                              recording_dir="/tmp/none", settings={})
    for index, (speaker, text, kind) in enumerate([
        ("interviewer", "Why coffee?", "question"),
        ("candidate", "I love it. Sorry, can I talk to a real person about the hours?", "answer"),
    ]):
        store.add_turn(session_id=sid, index=index, speaker=speaker, text=text, start_s=index * 3.0,
                       end_s=index * 3.0 + 2, question_position=0, is_follow_up=False, kind=kind)
    store.end_session(session_id=sid, status="completed", duration_s=6.0, recording_path=None)
    escalations = Escalations(store.engine, live)
    flag = escalations.after_session(sid)
    assert flag is not None and flag.kind.value == "asked_for_person"
    assert Contacts(store.engine).get(sam.id or 0).flag_kind == "asked_for_person"
    assert len(smtp.received) == 1
    escalations.after_session(sid)  # already queued: no second email
    assert len(smtp.received) == 1


def test_a_quiet_interview_flags_nobody_and_a_viewer_cannot_resume(
    live: Settings, store: SessionStore, smtp: FakeSmtpServer, viewer: TestClient
) -> None:
    slug, version_id = interview(store)
    kim = Candidates(store.engine).add(slug=slug, name="Kim", email="k@example.com")
    sid = store.start_session(candidate_id=kim.id or 0, interview_id=version_id, channel="webrtc",
                              recording_dir="/tmp/none", settings={})
    store.add_turn(session_id=sid, index=0, speaker="candidate", text="I talk to customers all day.",
                   start_s=0.0, end_s=2.0, question_position=0, is_follow_up=False, kind="answer")
    assert Escalations(store.engine, live).after_session(sid) is None and smtp.received == []
    Contacts(store.engine).flag(kim.id or 0, "reply", "replied", store.now())
    refused = viewer.post(f"/app/candidates/{kim.id}/resume",
                          data={"csrf_token": form_token(viewer, "/app/needs-a-person")})
    assert refused.status_code == 403 and Contacts(store.engine).get(kim.id or 0).paused
