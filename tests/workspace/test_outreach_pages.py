"""One interview's outreach page through the real app: settings saved and refused, templates saved
(and then used by the planner), refused with the checker's reason, previewed on the sample candidate
with the HTML escaped, deleted; viewers only look; and each variant's rates from real rows."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.planner import OutreachConfig, plan, values
from milo_voice.outreach.settings_store import InterviewSettings, OutreachSettingsStore
from milo_voice.outreach.template_store import TemplateStore
from milo_voice.outreach.templates import DEFAULTS, Template
from milo_voice.outreach.types import ChannelName, MessageKind, Receipt
from milo_voice.settings import Settings
from milo_voice.store.tables import Candidate
from milo_voice.web.workspace.outreach_pages import sample_values
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.variant_stats import VariantRates, VariantStats
from workspace.sessions import store_session
from workspace.support import form_token

INVITE = MessageKind.INVITATION, ChannelName.EMAIL
BODY = ("Hello {first_name},\n\nPlease take the {role} interview at {company} by {deadline}: {link}\n\n"
        "{sender_name}")


def published(store: SessionStore, title: str = "Barista") -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title=title, role=f"{title} (weekends)", questions=(
        QuestionForm("Why coffee?"), QuestionForm("Tell me about a rush hour."))))
    interviews.publish(row.slug)
    return row.slug


def page_of(slug: str) -> str:
    return f"/app/interviews/{slug}/outreach"


def editor(slug: str, variant: str = "A", kind: str = "invitation", channel: str = "email") -> str:
    return f"{page_of(slug)}/templates/{kind}/{channel}/{variant}"


def post(client: TestClient, url: str, **data: str) -> tuple[int, str]:
    token = form_token(client, "/app/interviews")
    response = client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)
    return response.status_code, response.headers.get("location", response.text)


def test_settings_are_saved_audited_and_shown(admin: TestClient, store: SessionStore) -> None:
    slug = published(store)
    first = admin.get(f"/app/interviews/{slug}")
    assert f'href="{page_of(slug)}"' in first.text  # the interview page links here
    shown = admin.get(page_of(slug))
    assert shown.status_code == 200 and 'name="deadline_days" value="7"' in shown.text
    status, location = post(admin, page_of(slug), deadline_days="14", sms_invitations="on",
                            remind_not_started="on", remind_deadline="on")
    assert (status, location) == (303, f"{page_of(slug)}?saved=1")
    stored = OutreachSettingsStore(store.engine).interview(slug)
    assert stored == InterviewSettings(14, True, True, False, True)
    again = admin.get(location).text
    assert "Outreach settings saved." in again and 'name="deadline_days" value="14"' in again
    assert '<option value="on" selected>' in again
    assert re.search(r'name="remind_unfinished" value="on"\s+>', again)  # unticked
    [event] = [e for e in Audit(store.engine).recent() if e.target_type == "interview_outreach"]
    assert (event.action, event.target_id, event.detail["deadline_days"]) == ("edit", slug, 14)


def test_a_bad_deadline_is_refused_with_the_reason_and_nothing_saved(
    admin: TestClient, store: SessionStore
) -> None:
    slug = published(store)
    for typed, reason in (("0", "choose 1 to 90"), ("91", "choose 1 to 90"), ("two", "whole number of days")):
        status, text = post(admin, page_of(slug), deadline_days=typed, sms_invitations="off")
        assert status == 400 and reason in text, typed
        assert f'name="deadline_days" value="{typed}"' in text  # what was typed is shown again
        assert '<option value="off" selected>' in text
    status, text = post(admin, page_of(slug), deadline_days="5", sms_invitations="maybe")
    assert status == 400 and "choose the server default, on or off" in text
    assert not OutreachSettingsStore(store.engine).interviews()  # no row: the defaults


def test_a_saved_template_is_the_one_candidates_get(admin: TestClient, store: SessionStore) -> None:
    slug = published(store)
    default_form = admin.get(editor(slug)).text
    assert html.escape(DEFAULTS[INVITE].subject) in default_form and "Not saved yet" in default_form
    status, location = post(admin, editor(slug), subject="Your {role} interview", body=BODY)
    assert (status, location) == (303, editor(slug) + "?saved=1")
    saved = Template(*INVITE, BODY, "Your {role} interview", "A")
    assert TemplateStore(store.engine).choose(slug, *INVITE, candidate_id=7) == saved
    page = admin.get(page_of(slug)).text
    assert 'id="v-invitation-email-A"' in page and 'id="v-invitation-email-default"' not in page
    assert f'href="{editor(slug, "B")}">Add variant B</a>' in page
    candidate = Candidates(store.engine).add(slug=slug, name="Robin Reader", email="robin@example.com")
    outbox = Outbox(store.engine)
    assert plan(outbox, OutreachConfig(base_url="http://jobs.example"), datetime.now(UTC)) == 1
    [(message, _)] = outbox.log(candidate.id or 0)
    assert (message.subject, message.variant) == ("Your Barista (weekends) interview", "A")
    assert message.body_text.startswith("Hello Robin,")
    assert post(admin, editor(slug, "B"), subject="Hi {first_name}", body="Go: {link}")[0] == 303
    chosen = [TemplateStore(store.engine).choose(slug, *INVITE, cid).variant for cid in (10, 11)]
    assert chosen == ["A", "B"]  # candidate_id % 2 over A, B
    assert "Add variant C" in admin.get(page_of(slug)).text


def test_an_unknown_variable_is_refused_at_save_and_nothing_is_stored(
    admin: TestClient, store: SessionStore
) -> None:
    slug = published(store)
    typo = "Hi {frist_name}, start here: {link}"
    status, text = post(admin, editor(slug, kind="reminder_deadline", channel="sms"), body=typo)
    assert status == 400
    assert "unknown variable {frist_name}; use {first_name}" in html.unescape(text)
    assert html.escape(typo) in text  # the typed text is kept in the form
    status, text = post(admin, editor(slug), subject="Hello", body="No link here, {first_name}")
    assert status == 400 and "has no {link}" in html.unescape(text)
    assert TemplateStore(store.engine).saved(slug) == []
    assert [e for e in Audit(store.engine).recent() if e.target_type == "outreach_template"] == []


def test_the_preview_uses_the_sample_candidate_and_escapes_html(
    admin: TestClient, store: SessionStore, settings: Settings
) -> None:
    slug = published(store)
    url, token = f"{page_of(slug)}/preview", form_token(admin, page_of(slug))
    body = "Hi {first_name} <b>bold</b> & co,\n\n{company} / {sender_name}: {duration}.\n\n{link} by " \
           "{deadline}"
    response = admin.post(url, data={"csrf_token": token, "kind": "invitation", "channel": "email",
                                     "subject": "{role} <i>at</i> {company}", "body": body})
    assert response.status_code == 200
    shown = response.json()
    assert shown["subject"] == f"Barista (weekends) <i>at</i> {settings.company_name}"
    assert shown["text"].startswith("Hi Jordan <b>bold</b> & co,")
    assert f"{settings.company_name} / {settings.outreach_sender}: 6 minutes." in shown["text"]
    assert re.search(r"/i/sample-link by \w+day \d+ \w+$", shown["text"])
    assert "Hi Jordan &lt;b&gt;bold&lt;/b&gt; &amp; co," in shown["html"] and "<b>" not in shown["html"]
    assert "/i/sample-link</a>" in shown["html"]
    refused = admin.post(url, data={"csrf_token": token, "kind": "nudge", "channel": "sms",
                                    "body": "Hi {frist_name}"})
    assert refused.status_code == 400 and "unknown variable {frist_name}" in refused.json()["error"]
    assert admin.post(url, data={"csrf_token": token, "kind": "memo", "channel": "sms"}).status_code == 400
    padded = admin.post(url, data={"csrf_token": token, "kind": "nudge", "channel": "sms",
                                   "body": "{link:>999999999}"})  # str.format would build a 1 GB string
    assert padded.status_code == 400 and "without a format: {link:>999999999}" in padded.json()["error"]
    assert admin.post(url, data={"kind": "nudge", "channel": "sms", "body": "{link}"}).status_code == 403
    # Server-side preview on GET: a saved template's markup never reaches the page unescaped.
    hostile = "<script>alert('x')</script> {first_name} {link}"
    subject = "</iframe><script>x()</script>"
    assert post(admin, editor(slug, kind="nudge"), subject=subject, body=hostile)[0] == 303
    page = admin.get(editor(slug, kind="nudge")).text
    assert "<script>alert" not in page and "<script>x()" not in page and "</iframe><script>" not in page
    srcdoc = re.search(r'<iframe id="preview-html"[^>]*sandbox=""[^>]*srcdoc="([^"]*)"', page, re.S)
    assert srcdoc is not None
    document = html.unescape(srcdoc.group(1))  # what the iframe gets: the email's own HTML part
    assert document.startswith("<!doctype html>") and "<script>" not in document
    assert "<p>&lt;script&gt;alert('x')&lt;/script&gt; Jordan " in document


def test_the_sample_values_are_what_the_planner_gives_such_a_candidate(
    store: SessionStore, settings: Settings
) -> None:
    slug = published(store)
    interview = Interviews(store.engine).latest(slug)
    ends = datetime(2026, 3, 9, 12, tzinfo=UTC)
    sample = Candidate(interview_id=interview.id or 0, name="Jordan Sample", token="sample-link")
    config = OutreachConfig(base_url=settings.base_url, company=settings.company_name,
                            sender_name=settings.outreach_sender)
    assert sample_values(settings, interview, 2, ends) == values(sample, interview, 2, config, ends)
    assert sample_values(settings, interview, 2, ends)["first_name"] == "Jordan"


def test_a_viewer_sees_but_cannot_change(viewer: TestClient, admin: TestClient, store: SessionStore) -> None:
    slug = published(store)
    page = viewer.get(page_of(slug))
    assert page.status_code == 200 and "Save settings" not in page.text and ">View</a>" in page.text
    form = viewer.get(editor(slug))
    assert form.status_code == 200 and "Save variant" not in form.text and "readonly" in form.text
    assert post(viewer, page_of(slug), deadline_days="30", sms_invitations="on")[0] == 403
    assert post(viewer, editor(slug), subject="S {link}", body="B {link}")[0] == 403
    assert post(admin, editor(slug), subject="Saved by admin", body="{link}")[0] == 303
    assert post(viewer, editor(slug), action="delete")[0] == 403
    assert [t.subject for t in TemplateStore(store.engine).saved(slug)] == ["Saved by admin"]
    assert OutreachSettingsStore(store.engine).interview(slug) == InterviewSettings()
    token = form_token(viewer, page_of(slug))
    fields = {"csrf_token": token, "kind": "nudge", "channel": "sms", "body": "{first_name}: {link}"}
    previewed = viewer.post(f"{page_of(slug)}/preview", data=fields)
    assert previewed.status_code == 200 and previewed.json()["text"].startswith("Jordan: ")


def test_deleting_the_last_variant_brings_the_default_back(admin: TestClient, store: SessionStore) -> None:
    slug = published(store)
    templates = TemplateStore(store.engine)
    assert post(admin, editor(slug), subject="Custom", body="Custom {link}")[0] == 303
    assert templates.choose(slug, *INVITE, 3).subject == "Custom"
    assert "Delete variant A" in admin.get(editor(slug)).text
    assert post(admin, editor(slug), action="delete") == (303, page_of(slug))
    assert templates.choose(slug, *INVITE, 3) == DEFAULTS[INVITE]
    again = admin.get(editor(slug)).text
    assert "Not saved yet" in again and "Delete variant" not in again
    assert 'id="v-invitation-email-default"' in admin.get(page_of(slug)).text
    events = Audit(store.engine).recent(target_type="outreach_template")
    assert [(e.action, e.target_id) for e in events] == [("delete", f"{slug}:invitation:email:A"),
                                                         ("edit", f"{slug}:invitation:email:A")]
    assert admin.get(editor(slug, "E")).status_code == 404
    assert admin.get(f"{page_of(slug)}/templates/invitation/fax/A").status_code == 404
    assert admin.get(page_of("no-such-interview")).status_code == 404


def _sent(outbox: Outbox, candidate: Candidate, kind: MessageKind, channel: ChannelName, variant: str,
          key: str, *, outcome: str = "sent") -> None:
    """A message through the outbox's real API: scheduled, handed over, then `outcome`."""
    mid = outbox.schedule(candidate_id=candidate.id or 0, kind=kind, channel=channel, dedupe_key=key,
                          recipient="x@example.com", body_text="Your link", due_at=datetime.now(UTC),
                          template=f"{kind}:{channel}", variant=variant)
    assert mid is not None
    if outcome == "scheduled":
        return
    assert outbox.begin_handover(mid)
    if outcome == "failed":
        outbox.mark_failed(mid, "rejected recipient")
        return
    outbox.mark_sent(mid, Receipt(f"provider-{mid}"))
    if outcome == "delivered":
        outbox.delivery(message_id=mid, state="delivered")


def test_variant_rates_from_real_rows(admin: TestClient, store: SessionStore, tmp_path: Path) -> None:
    slug, other = published(store), published(store, "Roaster")
    templates, candidates = TemplateStore(store.engine), Candidates(store.engine)
    outbox = Outbox(store.engine)
    for variant in "AB":
        templates.save(slug, Template(*INVITE, "Hi {link}", "Subject", variant))
    people = [candidates.add(slug=slug, name=f"Person {i}", email=f"p{i}@example.com") for i in range(4)]
    by_variant: dict[str, list[Candidate]] = {"A": [], "B": []}
    for person in people:
        by_variant[templates.choose(slug, *INVITE, person.id or 0).variant].append(person)
    (a1, a2), (b1, b2) = by_variant["A"], by_variant["B"]
    outsider = candidates.add(slug=other, name="Elsewhere", email="e@example.com")
    email, sms = ChannelName.EMAIL, ChannelName.SMS
    _sent(outbox, a1, MessageKind.INVITATION, email, "A", "i-a1")
    _sent(outbox, a2, MessageKind.INVITATION, email, "A", "i-a2", outcome="delivered")
    _sent(outbox, b1, MessageKind.INVITATION, email, "B", "i-b1")
    _sent(outbox, b2, MessageKind.INVITATION, email, "B", "i-b2", outcome="failed")
    _sent(outbox, b2, MessageKind.INVITATION, sms, "default", "i-b2-sms", outcome="scheduled")
    _sent(outbox, a1, MessageKind.REMINDER_NOT_STARTED, email, "default", "r-a1")
    _sent(outbox, b1, MessageKind.NUDGE, email, "", "n1-b1")  # written before variants: "default"
    _sent(outbox, b1, MessageKind.NUDGE, email, "default", "n2-b1")
    _sent(outbox, outsider, MessageKind.INVITATION, email, "A", "i-out")
    for person in (a1, a2, b1, outsider):
        assert candidates.mark_opened(person.id or 0)
    interview_of = {c.id: c.interview_id for c in (a1, a2, b1, outsider)}
    for person in (a1, outsider):  # completed sessions
        store_session(store, candidate_id=person.id or 0, interview_id=interview_of[person.id],
                      directory=tmp_path / f"rec-{person.id}")
    store.start_session(candidate_id=a2.id or 0, interview_id=interview_of[a2.id], channel="webrtc",
                        recording_dir=str(tmp_path / "live"), settings={})  # still live: started
    ended = store.start_session(candidate_id=b1.id or 0, interview_id=interview_of[b1.id], channel="webrtc",
                                recording_dir=str(tmp_path / "early"), settings={})
    store.end_session(session_id=ended, status="interrupted", duration_s=30.0, recording_path=None)

    rates = VariantStats(store.engine).rates(slug)
    assert rates == {
        ("invitation", "email", "A"): VariantRates("invitation", "email", "A", 2, 2, 2, 2, 1),
        ("invitation", "email", "B"): VariantRates("invitation", "email", "B", 1, 1, 1, 1, 0),
        ("reminder_not_started", "email", "default"): VariantRates(
            "reminder_not_started", "email", "default", 1, 1, 1, 1, 1),
        ("nudge", "email", "default"): VariantRates("nudge", "email", "default", 2, 1, 1, 1, 0),
    }
    assert rates[("invitation", "email", "A")].completed_rate == 0.5
    assert VariantStats(store.engine).rates(other) == {
        ("invitation", "email", "A"): VariantRates("invitation", "email", "A", 1, 1, 1, 1, 1)}

    page = admin.get(page_of(slug)).text
    cells = {name: _cells(page, name) for name in ("invitation-email-A", "invitation-email-B",
                                                    "invitation-sms-default", "nudge-email-default")}
    assert cells["invitation-email-A"] == ["2", "2", "2 (100%)", "2 (100%)", "1 (50%)"]
    assert cells["invitation-email-B"] == ["1", "1", "1 (100%)", "1 (100%)", "0 (0%)"]
    assert cells["invitation-sms-default"] == ["0", "0", "-", "-", "-"]
    assert cells["nudge-email-default"] == ["2", "1", "1 (100%)", "1 (100%)", "0 (0%)"]
    templates.delete(slug, *INVITE, "B")  # B's numbers stay on the page, marked retired
    retired = admin.get(page_of(slug)).text
    assert _cells(retired, "invitation-email-B")[0] == "1" and "(no longer in use)" in retired


def _cells(page: str, row: str) -> list[str]:
    found = re.search(rf'<tr id="v-{row}">(.*?)</tr>', page, re.S)
    assert found is not None, row
    values = re.findall(r'<td class="(?:sent|reached|opened|started|completed)">(.*?)</td>', found.group(1))
    return [v.strip() for v in values]


def test_the_preview_script_is_served(admin: TestClient) -> None:
    script = admin.get("/app/static/outreach.js")
    assert script.status_code == 200 and "srcdoc" in script.text and "textContent" in script.text
    assert "innerHTML" not in script.text
