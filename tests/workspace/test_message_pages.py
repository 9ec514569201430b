"""The recruiter's side of messages over the real app: the profile's Messages section (the log with
verdicts, delivery states and failures, the deadline, SMS replies), the Nudge button (one and bulk)
with its flash, "Extend the deadline by N days" reopening a closed link, the list's Last engaged and Messages
columns without per-row queries, and the API's message log and nudge. Viewers see, admins act."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import Receipt
from milo_voice.settings import Secret, Settings
from milo_voice.store.tables import Candidate, MessageStatus
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import ADMIN, VIEWER, form_token, login

BASE = "https://jobs.acme.test"


@pytest.fixture
def live(settings: Settings) -> Settings:
    """Email and SMS configured (no worker runs here: messages stay scheduled unless a test moves them)."""
    return replace(settings, smtp_host="127.0.0.1", smtp_from="jobs@acme.test",
                   twilio_account_sid="AC" + "0" * 32, twilio_auth_token=Secret("token"),
                   sms_from="+14155550199", public_url=BASE, company_name="Acme")


def client_for(settings: Settings, store: SessionStore, email: str) -> TestClient:
    client = TestClient(create_app(settings, store.engine), base_url=BASE)
    client.__enter__()
    login(client, email)
    return client


@pytest.fixture
def admin_client(live: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    client = client_for(live, store, ADMIN)
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def viewer_client(live: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    client = client_for(live, store, VIEWER)
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def slug(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", role="Barista", questions=(QuestionForm("Why?"),)))
    return interviews.publish(row.slug).slug


def add(store: SessionStore, slug: str, name: str, email: str = "", phone: str = "",
        days_ago: int = 0) -> Candidate:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    return Candidates(store.engine, now=lambda: when).add(slug=slug, name=name, email=email, phone=phone)


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def audits(store: SessionStore, action: str) -> list[Any]:
    return [e for e in Audit(store.engine).recent() if e.action == action]


def test_the_profile_shows_the_log_and_an_admins_nudge_schedules_with_a_flash(
    admin_client: TestClient, store: SessionStore, slug: str
) -> None:
    robin = add(store, slug, "Robin Reader", "robin@example.com", "+1 415 555 0100")
    profile = f"/app/candidates/{robin.id}"
    before = admin_client.get(profile)
    assert 'id="messages"' in before.text and 'id="no-messages"' in before.text
    assert 'id="nudge"' in before.text and "Extend the deadline by" in before.text
    pressed = admin_client.post(f"{profile}/nudge", data={"csrf_token": form_token(admin_client, profile)},
                                follow_redirects=False)
    assert pressed.status_code == 303 and pressed.headers["location"] == f"{profile}#messages"
    page = text(admin_client.get(profile).text)
    assert "Nudge scheduled for Robin Reader by email and SMS." in page
    assert "deferred (not dropped)" in page  # the guardrails still apply
    assert "A note about your interview for Barista" in page and "by admin@example.com" in page
    assert "To robin@example.com" in page and "To +14155550100" in page
    assert "Nudge scheduled" not in admin_client.get(profile).text  # a flash is shown once
    [audit] = audits(store, "nudge")
    assert audit.actor == ADMIN and audit.target_id == str(robin.id)
    assert audit.detail["channels"] == ["email", "sms"] and len(audit.detail["messages"]) == 2


def test_delivery_states_deferrals_failures_and_replies_show_on_the_profile(
    admin_client: TestClient, store: SessionStore, slug: str
) -> None:
    robin = add(store, slug, "Robin Reader", "robin@example.com", "+1 415 555 0100")
    profile = f"/app/candidates/{robin.id}"
    admin_client.post(f"{profile}/nudge", data={"csrf_token": form_token(admin_client, profile)})
    outbox = Outbox(store.engine)
    by_channel = {m.channel: m.id or 0 for m, _ in outbox.log(robin.id or 0)}
    assert outbox.begin_handover(by_channel["email"])
    outbox.mark_sent(by_channel["email"], Receipt("smtp-77"))
    outbox.delivery(message_id=by_channel["email"], state="delivered")
    until = datetime(2030, 1, 2, 17, 0, tzinfo=UTC)
    outbox.defer(by_channel["sms"], until, "quiet hours (America/Los_Angeles)")
    Contacts(store.engine).record_inbound(candidate_id=robin.id, from_number="+14155550100",
                                          to_number="+14155550199", body="Can I do it Monday?",
                                          keyword="", provider_id="SM9")
    page = text(admin_client.get(profile).text)
    assert "provider id smtp-77" in page and "provider:delivered" in page and "Verdict: send" in page
    assert "Verdict: defer · deferred until 2030-01-02 17:00 UTC (quiet hours (America/Los_Angeles))" in page
    assert "Can I do it Monday?" in page and "from +14155550100" in page
    outbox.mark_failed(by_channel["sms"], "Twilio refused the message: error 21211")
    assert "Failed: Twilio refused the message: error 21211" in text(admin_client.get(profile).text)


def test_a_viewer_sees_the_log_but_cannot_nudge_or_extend(
    viewer_client: TestClient, store: SessionStore, slug: str
) -> None:
    robin = add(store, slug, "Robin Reader", "robin@example.com")
    profile = f"/app/candidates/{robin.id}"
    page = viewer_client.get(profile).text
    assert 'id="messages"' in page and 'id="nudge"' not in page and 'id="extend-form"' not in page
    token = form_token(viewer_client, profile)
    assert viewer_client.post(f"{profile}/nudge", data={"csrf_token": token}).status_code == 403
    bulk = viewer_client.post("/app/candidates/nudge", data={"csrf_token": token, "ids": [str(robin.id)]})
    assert bulk.status_code == 403
    extend = viewer_client.post(f"{profile}/deadline", data={"csrf_token": token, "days": "3"})
    assert extend.status_code == 403
    assert Outbox(store.engine).log(robin.id or 0) == [] and audits(store, "nudge") == []
    assert 'id="bulk-nudge"' not in viewer_client.get("/app/candidates").text


def test_a_nudge_nothing_can_carry_is_refused_with_the_reason(
    admin_client: TestClient, store: SessionStore, slug: str, settings: Settings, users: dict[str, int]
) -> None:
    nobody = add(store, slug, "No Contact")
    profile = f"/app/candidates/{nobody.id}"
    refused = admin_client.post(f"{profile}/nudge", data={"csrf_token": form_token(admin_client, profile)})
    assert refused.status_code == 400
    assert "No Contact cannot be nudged: no email address; no phone number" in text(refused.text)
    assert admin_client.post("/app/candidates/99999/nudge",
                             data={"csrf_token": form_token(admin_client, profile)}).status_code == 404
    offline = client_for(settings, store, ADMIN)  # no channel configured
    try:
        robin = add(store, slug, "Robin", "robin@example.com")
        page = offline.get(f"/app/candidates/{robin.id}").text
        assert 'id="no-channel"' in page and re.search(r'id="nudge"\s+disabled', page)
        token = form_token(offline, f"/app/candidates/{robin.id}")
        off = offline.post(f"/app/candidates/{robin.id}/nudge", data={"csrf_token": token})
        assert off.status_code == 400 and "no channel is configured" in off.text
    finally:
        offline.__exit__(None, None, None)
    assert audits(store, "nudge") == []


def test_a_bulk_nudge_reports_each_candidate_in_a_flash(
    admin_client: TestClient, store: SessionStore, slug: str
) -> None:
    ana = add(store, slug, "Ana", "ana@example.com")
    nobody = add(store, slug, "No Contact")
    ben = add(store, slug, "Ben", phone="+1 415 555 0123")
    listing = admin_client.get("/app/candidates")
    assert 'id="bulk-nudge"' in listing.text and 'formaction="/app/candidates/nudge"' in listing.text
    back = f"/app/candidates?interview={slug}"
    ids = [str(ana.id), str(nobody.id), str(ben.id)]
    pressed = admin_client.post("/app/candidates/nudge", data={
        "csrf_token": form_token(admin_client, "/app/candidates"), "ids": ids, "back": back},
        follow_redirects=False)
    assert pressed.status_code == 303 and pressed.headers["location"] == back
    page = text(admin_client.get(back).text)
    assert "Nudges scheduled for 2 of 3 candidates (2 messages)." in page
    assert "Skipped 1: No Contact cannot be nudged: no email address; no phone number." in page
    assert [m.channel for m, _ in Outbox(store.engine).log(ben.id or 0)] == ["sms"]
    assert sorted(e.target_id for e in audits(store, "nudge")) == sorted([str(ana.id), str(ben.id)])
    assert {e.detail["bulk"] for e in audits(store, "nudge")} == {3}
    elsewhere = admin_client.post("/app/candidates/nudge", data={
        "csrf_token": form_token(admin_client, "/app/candidates"), "ids": ids[:1],
        "back": "https://evil.example/"}, follow_redirects=False)
    assert elsewhere.headers["location"] == "/app/candidates"  # never an open redirect


def test_extending_a_passed_deadline_reopens_the_link(
    admin_client: TestClient, client: TestClient, store: SessionStore, slug: str
) -> None:
    late = add(store, slug, "Kim Late", "kim@example.com", days_ago=8)
    assert "deadline for this interview has passed" in client.get(f"/i/{late.token}").text
    profile = f"/app/candidates/{late.id}"
    assert 'id="deadline-passed"' in admin_client.get(profile).text
    token = form_token(admin_client, profile)
    refused = admin_client.post(f"{profile}/nudge", data={"csrf_token": token})
    assert refused.status_code == 400 and "extend the deadline first" in text(refused.text)
    words = admin_client.post(f"{profile}/deadline", data={"csrf_token": token, "days": "abc"})
    assert words.status_code == 400 and "whole number of days" in words.text
    zero = admin_client.post(f"{profile}/deadline", data={"csrf_token": token, "days": "0"})
    assert zero.status_code == 400 and "1 to 90 days" in zero.text
    extended = admin_client.post(f"{profile}/deadline", data={"csrf_token": token, "days": "3"},
                                 follow_redirects=False)
    assert extended.status_code == 303 and extended.headers["location"] == f"{profile}#messages"
    page = text(admin_client.get(profile).text)
    assert "Deadline extended by 3 days" in page and "the candidate's link is open again" in page
    assert 'id="deadline-passed"' not in admin_client.get(profile).text
    assert "deadline for this interview has passed" not in client.get(f"/i/{late.token}").text
    [audit] = audits(store, "extend_deadline")
    assert audit.actor == ADMIN and audit.detail["days"] == 3 and audit.detail["reopened"] is True
    assert admin_client.post(f"{profile}/nudge", data={"csrf_token": token}).status_code == 200  # now it can


@pytest.fixture
def selects(store: SessionStore) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    yield seen
    event.remove(store.engine, "before_cursor_execute", count)


def cells(page: str, name: str) -> dict[str, str]:
    """Each row's cell of a column, by the row's candidate name."""
    rows = re.findall(r'<tr>\s*<td><input type="checkbox" name="ids".*?</tr>', page, re.S)
    out = {}
    for row in rows:
        who = re.search(r'<a href="/app/candidates/\d+">([^<]+)</a>', row)
        cell = re.search(rf'<td class="{name}"([^>]*)>([^<]*)</td>', row)
        assert who and cell
        out[who.group(1)] = (cell.group(2) + cell.group(1)).strip()
    return out


def test_the_list_shows_last_engaged_and_messages_without_per_row_queries(
    admin_client: TestClient, store: SessionStore, slug: str, selects: list[str]
) -> None:
    busy = add(store, slug, "Busy", "busy@example.com", "+1 415 555 0100")
    engaged = add(store, slug, "Engaged", "engaged@example.com")
    opened = add(store, slug, "Opened", "opened@example.com")
    add(store, slug, "Never", "never@example.com")
    profile = f"/app/candidates/{busy.id}"
    admin_client.post(f"{profile}/nudge", data={"csrf_token": form_token(admin_client, profile)})
    Contacts(store.engine).engaged(engaged.id or 0, datetime(2026, 3, 4, 5, 6, tzinfo=UTC))
    Candidates(store.engine, now=lambda: datetime(2026, 1, 2, 3, 4, tzinfo=UTC)).mark_opened(opened.id or 0)
    selects.clear()
    page = admin_client.get("/app/candidates").text
    few = len(selects)
    assert "<th>Last engaged</th>" in page and "<th>Messages</th>" in page
    engaged_cells, message_cells = cells(page, "engaged"), cells(page, "messages")
    assert engaged_cells["Engaged"] == "2026-03-04 05:06 UTC"
    assert engaged_cells["Opened"] == "2026-01-02 03:04 UTC"  # never engaged since: the first open
    assert engaged_cells["Never"] == "—" and engaged_cells["Busy"] == "—"
    assert message_cells["Never"] == "0"
    assert re.fullmatch(r'2 title="last message \S+ \S+ UTC; none sent yet"', message_cells["Busy"])
    for i in range(10):
        add(store, slug, f"More {i}", f"more{i}@example.com")
    selects.clear()
    admin_client.get("/app/candidates")
    assert len(selects) == few  # 14 candidates cost what 4 did: no query per row
    narrow = admin_client.get("/app/candidates", params={"cols": ["status"]}).text
    assert "<th>Messages</th>" not in narrow  # the column chooser still decides


def test_the_api_reads_the_log_and_nudges_with_an_admin_key(
    admin_client: TestClient, store: SessionStore, slug: str, users: dict[str, int]
) -> None:
    accounts = Accounts(store.engine)
    admin_key = {"Authorization": f"Bearer {accounts.create_api_key(user_id=users['admin'], name='ATS')[1]}"}
    viewer_key = {"Authorization": f"Bearer {accounts.create_api_key(user_id=users['viewer'], name='BI')[1]}"}
    robin = add(store, slug, "Robin Reader", "robin@example.com", "+1 415 555 0100")
    url = f"/api/candidates/{robin.id}"
    assert admin_client.get(f"{url}/messages").status_code == 401
    assert admin_client.post(f"{url}/nudge", headers=viewer_key).status_code == 403
    nudged = admin_client.post(f"{url}/nudge", headers=admin_key)
    assert nudged.status_code == 201, nudged.text
    body = nudged.json()
    assert [s["channel"] for s in body["scheduled"]] == ["email", "sms"] and "deferred" in body["note"]
    log = admin_client.get(f"{url}/messages", headers=viewer_key)
    assert log.status_code == 200
    data = log.json()
    assert data["candidate"] == robin.id and data["deadline"] and data["replies"] == []
    assert sorted(m["id"] for m in data["messages"]) == sorted(s["message_id"] for s in body["scheduled"])
    first = data["messages"][0]
    assert first["kind"] == "nudge" and first["status"] == MessageStatus.SCHEDULED.value
    assert first["events"][0]["state"] == "scheduled" and first["requested_by"].startswith(ADMIN)
    assert first["body_text"].startswith("Hi Robin") and first["variant"] == "default"
    [audit] = audits(store, "nudge")
    assert "API key" in audit.actor
    nobody = add(store, slug, "No Contact")
    refused = admin_client.post(f"/api/candidates/{nobody.id}/nudge", headers=admin_key)
    assert refused.status_code == 400 and "cannot be nudged" in refused.json()["error"]
    assert admin_client.get("/api/candidates/99999/messages", headers=viewer_key).status_code == 404
    assert admin_client.post("/api/candidates/99999/nudge", headers=admin_key).status_code == 404
