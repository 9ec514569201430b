"""A recruiter's nudge (scheduled per channel the candidate can get, in the interview's own template
variant, refused with the reason otherwise; bulk: per-candidate results) and the message log it
lands in (every event in order, per-candidate summaries in two queries)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.message_log import MessageLog, Summary
from milo_voice.outreach.nudge import NO_CHANNEL, Nudges, available, config_from
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.planner import OutreachConfig
from milo_voice.outreach.template_store import TemplateStore
from milo_voice.outreach.templates import Template
from milo_voice.outreach.types import ChannelName, MessageKind, Receipt
from milo_voice.settings import Secret, Settings
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import Candidate, CandidateStatus
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews

ADDED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BOTH = OutreachConfig(base_url="https://jobs.example.com", company="Acme", sender_name="Sam at Acme")
EMAIL_ONLY = OutreachConfig(base_url="https://jobs.example.com", company="Acme",
                            channels=frozenset({ChannelName.EMAIL}))
BY = "admin@example.com"


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(ADDED)


@pytest.fixture
def slug(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", role="Barista",
                                          questions=(QuestionForm("Why coffee?"), QuestionForm("A rush?"))))
    interviews.publish(row.slug)
    return row.slug


@pytest.fixture
def candidates(store: SessionStore, clock: Clock) -> Candidates:
    return Candidates(store.engine, now=clock)


@pytest.fixture
def nudges(store: SessionStore, clock: Clock) -> Nudges:
    return Nudges(store.engine, now=clock)


def add(candidates: Candidates, slug: str, name: str, email: str = "", phone: str = "") -> Candidate:
    return candidates.add(slug=slug, name=name, email=email, phone=phone)


def test_a_nudge_goes_now_on_each_channel_the_candidate_can_get(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges, clock: Clock
) -> None:
    robin = add(candidates, slug, "Robin Reader", "robin@example.com", "+1 415 555 0100")
    clock.at = ADDED + timedelta(hours=3)
    result = nudges.nudge(robin.id or 0, BOTH, by=BY)
    assert result.channels == ["email", "sms"] and result.notes == () and result.skipped == ""
    rows = {m.channel: m for m in (Outbox(store.engine).get(mid) for _, mid in result.scheduled)}
    email, sms = rows["email"], rows["sms"]
    assert email.kind == sms.kind == MessageKind.NUDGE.value
    assert email.due_at == sms.due_at == clock.at  # now: the dispatcher decides at its next tick
    assert (email.recipient, sms.recipient) == ("robin@example.com", "+14155550100")
    assert re.fullmatch(rf"nudge:email:{robin.id}:20261207120000000000", email.dedupe_key)
    assert email.template == "nudge:email" and email.variant == "default"
    assert email.subject == "A note about your interview for Barista"
    assert "Hi Robin," in email.body_text and f"https://jobs.example.com/i/{robin.token}" in email.body_text
    assert "open until Monday 14 December" in email.body_text  # the interview's 7 days
    assert 'href="https://jobs.example.com/i/' in email.body_html
    assert sms.body_text.startswith("Hi Robin, Sam at Acme from Acme here") and sms.body_html == ""
    [(_, events)] = [(m, e) for m, e in Outbox(store.engine).log(robin.id or 0) if m.channel == "email"]
    assert events[0].state == "scheduled" and events[0].detail["by"] == BY  # who asked


def test_sms_only_when_it_is_configured_and_reaches_the_number(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges, clock: Clock
) -> None:
    robin = add(candidates, slug, "Robin", "robin@example.com", "+1 415 555 0100")
    result = nudges.nudge(robin.id or 0, EMAIL_ONLY, by=BY)
    assert result.channels == ["email"] and result.notes == ("SMS is not configured on this server",)
    interview_id = candidates.get(robin.id or 0)[1].id or 0
    odd = candidates.enrol(interview_id=interview_id, name="Odd Number", email="odd@example.com",
                           phone="12345")
    assert nudges.nudge(odd.id or 0, BOTH, by=BY).notes == ("no SMS reaches '12345'",)
    texted = add(candidates, slug, "Text Only", phone="+44 7911 123456")
    only = nudges.nudge(texted.id or 0, BOTH, by=BY)
    assert only.channels == ["sms"] and only.notes == ("no email address",)
    Contacts(store.engine).opt_out(robin.id or 0, ChannelName.SMS)
    clock.at += timedelta(seconds=1)
    assert nudges.nudge(robin.id or 0, BOTH, by=BY).notes == ("opted out of SMS",)


def test_a_nudge_is_refused_with_the_reason_when_nothing_can_carry_it(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges, clock: Clock
) -> None:
    robin = add(candidates, slug, "Robin", "robin@example.com")
    nobody = add(candidates, slug, "No Contact")
    with pytest.raises(Invalid, match="no channel is configured"):
        nudges.nudge(robin.id or 0, OutreachConfig(base_url="x", channels=frozenset()), by=BY)
    with pytest.raises(Invalid, match="No Contact cannot be nudged: no email address; no phone number"):
        nudges.nudge(nobody.id or 0, BOTH, by=BY)
    texted = add(candidates, slug, "Text Only", phone="+1 415 555 0111")
    with pytest.raises(Invalid, match="cannot be nudged: no email address; SMS is not configured"):
        nudges.nudge(texted.id or 0, EMAIL_ONLY, by=BY)
    Contacts(store.engine).opt_out(robin.id or 0, None)
    with pytest.raises(Invalid, match="opted out of email"):
        nudges.nudge(robin.id or 0, BOTH, by=BY)
    done = add(candidates, slug, "Done Already", "done@example.com")
    candidates.set_status(done.id or 0, CandidateStatus.COMPLETED)
    with pytest.raises(Invalid, match="Done Already is completed"):
        nudges.nudge(done.id or 0, BOTH, by=BY)
    late = add(candidates, slug, "Kim Late", "kim@example.com")
    clock.at = ADDED + timedelta(days=7)
    with pytest.raises(Invalid, match=r"deadline .* has passed.*extend the deadline first"):
        nudges.nudge(late.id or 0, BOTH, by=BY)
    candidates.extend_deadline(late.id or 0, 2)
    assert nudges.nudge(late.id or 0, BOTH, by=BY).channels == ["email"]
    with pytest.raises(NotFound):
        nudges.nudge(9999, BOTH, by=BY)
    assert [m.candidate_id for m in Outbox(store.engine).due(clock.at)] == [late.id]  # nothing else


def test_the_text_is_the_interviews_own_variant_for_this_candidate(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges
) -> None:
    variants = TemplateStore(store.engine)
    for letter in "AB":
        variants.save(slug, Template(MessageKind.NUDGE, ChannelName.EMAIL,
                                     f"Variant {letter} for {{first_name}}: {{link}} ({{duration}})",
                                     f"{letter}: {{role}}", letter))
    pair = [add(candidates, slug, name, f"{name.lower()}@example.com") for name in ("Ana", "Ben")]
    for person in pair:
        [(_, mid)] = nudges.nudge(person.id or 0, EMAIL_ONLY, by=BY).scheduled
        row = Outbox(store.engine).get(mid)
        letter = "AB"[(person.id or 0) % 2]  # the same variant the planner gives them
        assert variants.choose(slug, MessageKind.NUDGE, ChannelName.EMAIL, person.id or 0).variant == letter
        assert row.variant == letter and row.subject == f"{letter}: Barista"
        link = f"https://jobs.example.com/i/{person.token}"
        assert row.body_text == f"Variant {letter} for {person.name}: {link} (6 minutes)"  # 2 questions x 3


def test_a_bulk_nudge_reports_each_candidate(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges
) -> None:
    ana = add(candidates, slug, "Ana", "ana@example.com", "+1 415 555 0100")
    nobody = add(candidates, slug, "No Contact")
    ben = add(candidates, slug, "Ben", "ben@example.com")
    ids = [ana.id or 0, nobody.id or 0, 9999, ben.id or 0, ana.id or 0]
    results = nudges.nudge_many(ids, BOTH, by=BY)
    assert [r.candidate_id for r in results] == [ana.id, nobody.id, 9999, ben.id]  # each once, in order
    assert [r.channels for r in results] == [["email", "sms"], [], [], ["email"]]
    assert results[1].skipped == "No Contact cannot be nudged: no email address; no phone number"
    assert results[2].skipped == "candidate 9999 does not exist"
    assert results[0].skipped == results[3].skipped == ""
    with pytest.raises(Invalid, match=re.escape(NO_CHANNEL[:40])):
        nudges.nudge_many(ids, OutreachConfig(base_url="x", channels=frozenset()), by=BY)


def test_every_press_schedules_again_and_the_same_instant_only_once(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges, clock: Clock
) -> None:
    ana = add(candidates, slug, "Ana", "ana@example.com")
    first = nudges.nudge(ana.id or 0, EMAIL_ONLY, by=BY)
    again = nudges.nudge(ana.id or 0, EMAIL_ONLY, by=BY)  # the same microsecond: the same key
    assert again.scheduled == ()
    assert again.notes == ("a nudge by email was scheduled at this very moment already",)
    clock.at += timedelta(seconds=1)
    later = nudges.nudge(ana.id or 0, EMAIL_ONLY, by=BY)  # the policy's nudge gap defers it, not the key
    assert first.scheduled != later.scheduled and len(later.scheduled) == 1


def test_channels_are_those_the_settings_configure() -> None:
    assert available(Settings()) == frozenset()
    email = Settings(smtp_host="smtp.example.com", smtp_from="jobs@example.com")
    assert available(email) == {ChannelName.EMAIL}
    account = {"twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": Secret("token")}
    assert available(Settings(sms_from="+14155550100", **account)) == {ChannelName.SMS}
    assert available(Settings(sms_messaging_service_sid="MG" + "1" * 32, **account)) == {ChannelName.SMS}
    assert available(Settings(sms_from="+14155550100")) == frozenset()  # no Twilio account
    config = config_from(Settings(smtp_host="smtp.example.com", smtp_from="jobs@example.com",
                                  company_name="Acme", public_url="https://jobs.example.com/"))
    assert config.channels == {ChannelName.EMAIL} and config.base_url == "https://jobs.example.com"
    assert config.company == "Acme"


def test_the_message_log_shows_every_event_in_order_newest_message_first(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges, clock: Clock
) -> None:
    ana = add(candidates, slug, "Ana Ames", "ana@example.com", "+1 415 555 0100")
    outbox = Outbox(store.engine, now=clock)
    ids = {c.value: m for c, m in nudges.nudge(ana.id or 0, BOTH, by=BY).scheduled}
    sms, email = ids["sms"], ids["email"]
    clock.at += timedelta(minutes=1)
    assert outbox.begin_handover(email)
    clock.at += timedelta(seconds=2)
    outbox.mark_sent(email, Receipt("smtp-42"))
    clock.at += timedelta(seconds=30)
    outbox.delivery(message_id=email, state="delivered", detail={"report": "250 OK"})
    outbox.defer(sms, ADDED + timedelta(hours=10), "quiet hours in America/Los_Angeles")
    logged = MessageLog(store.engine).messages(ana.id or 0)
    assert [m.id for m in logged] == sorted([sms, email], reverse=True)
    mail = next(m for m in logged if m.id == email)
    assert [e.state for e in mail.events] == ["scheduled", "handing_over", "sent", "provider:delivered"]
    assert [e.at for e in mail.events] == sorted(e.at for e in mail.events)
    assert mail.status == "delivered" and mail.provider_id == "smtp-42" and mail.verdict == "send"
    assert mail.subject.startswith("A note about") and "Hi Ana," in mail.body_text
    assert (mail.channel, mail.kind, mail.template, mail.variant) == ("email", "nudge", "nudge:email",
                                                                      "default")
    assert mail.requested_by == BY and mail.recipient == "ana@example.com"
    assert [e.state for e in mail.deliveries] == ["sent", "provider:delivered"]
    text = next(m for m in logged if m.id == sms)
    assert text.verdict == "defer" and text.deferred_until == ADDED + timedelta(hours=10)
    assert text.reason == "quiet hours in America/Los_Angeles"
    as_json: dict[str, Any] = mail.as_json()
    assert [e["state"] for e in as_json["events"]] == [e.state for e in mail.events]
    assert as_json["verdict"] == "send" and as_json["requested_by"] == BY
    assert as_json["events"][-1]["detail"] == {"report": "250 OK"}


def test_failures_and_suppressions_say_why(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges, clock: Clock
) -> None:
    ana = add(candidates, slug, "Ana", "ana@example.com", "+1 415 555 0100")
    outbox = Outbox(store.engine, now=clock)
    ids = {c.value: m for c, m in nudges.nudge(ana.id or 0, BOTH, by=BY).scheduled}
    outbox.suppress(ids["email"], "opted out of email")
    assert outbox.begin_handover(ids["sms"])
    outbox.mark_failed(ids["sms"], "Twilio refused the message: error 21211")
    logged = {m.channel: m for m in MessageLog(store.engine).messages(ana.id or 0)}
    assert logged["email"].verdict == "suppress"
    assert logged["email"].suppressed_because == "opted out of email"
    assert logged["sms"].failure == "Twilio refused the message: error 21211"
    assert [e.state for e in logged["sms"].events] == ["scheduled", "handing_over", "failed"]


@pytest.fixture
def statements(store: SessionStore) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    yield seen
    event.remove(store.engine, "before_cursor_execute", count)


def test_summaries_count_messages_and_engagement_in_two_queries(
    store: SessionStore, slug: str, candidates: Candidates, nudges: Nudges, clock: Clock,
    statements: list[str],
) -> None:
    people = [add(candidates, slug, f"P{i}", f"p{i}@example.com") for i in range(12)]
    busy, engaged, quiet = people[0].id or 0, people[1].id or 0, people[2].id or 0
    outbox = Outbox(store.engine, now=clock)
    [(_, first)] = nudges.nudge(busy, EMAIL_ONLY, by=BY).scheduled
    assert outbox.begin_handover(first)
    clock.at += timedelta(minutes=1)
    outbox.mark_sent(first, Receipt("x"))
    clock.at += timedelta(hours=1)
    nudges.nudge(busy, EMAIL_ONLY, by=BY)
    Contacts(store.engine).engaged(engaged, ADDED + timedelta(hours=5))
    statements.clear()
    found = MessageLog(store.engine).summaries([p.id or 0 for p in people])
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
    assert found[busy] == Summary(2, ADDED + timedelta(hours=1, minutes=1), ADDED + timedelta(minutes=1))
    assert found[engaged] == Summary(last_engaged_at=ADDED + timedelta(hours=5))
    assert quiet not in found
    assert MessageLog(store.engine).summaries([]) == {}
