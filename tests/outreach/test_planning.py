"""Templates (a closed set of variables, escaped HTML) and planning (which messages are due, each
scheduled once however often planning runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach import templates
from milo_voice.outreach.guardrails import Rules
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.phones import e164
from milo_voice.outreach.planner import OutreachConfig, plan, triggers
from milo_voice.outreach.settings_store import InterviewSettings, OutreachSettingsStore
from milo_voice.outreach.template_store import TemplateStore
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Candidate
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews

ADDED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CONFIG = OutreachConfig(base_url="https://jobs.example.com", company="Acme", sms_invitations=True)


def test_every_default_template_uses_only_known_variables_and_has_the_link() -> None:
    templated = [k for k in MessageKind if k is not MessageKind.SMS_INTERVIEW]  # the stage writes its own
    assert {(k, c) for k in templated for c in ChannelName} == set(templates.DEFAULTS)
    for template in templates.DEFAULTS.values():
        templates.check(template)


@pytest.mark.parametrize(("body", "error"), [
    ("Hi {frist_name}: {link}", "unknown variable {frist_name}"),
    ("Hi {first_name}", "has no {link}"),
    ("Hi {first_name: {link}", "does not parse"),
    ("Hi {first_name} {link:>999999999}", "formatting such as {link:>999999999} is not allowed"),
    ("Hi {first_name!r} {link}", "formatting such as {first_name!r} is not allowed"),
    ("Hi {first_name.__class__} {link}", "unknown variable {first_name.__class__}"),
])
def test_a_template_with_an_unknown_variable_is_refused(body: str, error: str) -> None:
    with pytest.raises(templates.TemplateError, match=error.replace("{", r"\{")):
        templates.check(templates.Template(MessageKind.NUDGE, ChannelName.SMS, body))


def test_values_are_escaped_in_the_html_part_and_the_link_is_clickable() -> None:
    message = templates.render(templates.DEFAULTS[(MessageKind.INVITATION, ChannelName.EMAIL)], {
        "first_name": "Zoë <b>", "role": "Barista", "company": "Café & Co", "link": "https://x.example/i/t",
        "deadline": "Monday 14 December", "duration": "6 minutes", "sender_name": "Sam"})
    assert message.subject == "Your interview for Barista at Café & Co"
    assert "Hi Zoë <b>," in message.text and "https://x.example/i/t" in message.text
    assert "Zoë &lt;b&gt;" in message.html and "Café &amp; Co" in message.html
    assert '<a href="https://x.example/i/t">https://x.example/i/t</a>' in message.html


def candidate(
    status: str = "invited", email: str = "r@example.com", phone: str = "+1 415 555 0100"
) -> Candidate:
    return Candidate(id=7, interview_id=1, name="Robin Reader", email=email, phone=phone, token="tok",
                     status=status, created_at=ADDED)


def keys(c: Candidate, now: datetime, config: OutreachConfig = CONFIG) -> list[str]:
    return [d.key for d in triggers(c, config, now)]


def keys_with(
    c: Candidate, now: datetime, settings: InterviewSettings, config: OutreachConfig = CONFIG
) -> list[str]:
    return [d.key for d in triggers(c, config, now, settings)]


def test_an_invitation_goes_out_by_email_and_by_sms_when_sms_is_on() -> None:
    assert keys(candidate(), ADDED) == ["invitation:email:7", "invitation:sms:7"]
    assert keys(candidate(), ADDED, OutreachConfig(base_url="x")) == ["invitation:email:7"]
    assert keys(candidate(phone="12345"), ADDED) == ["invitation:email:7"]  # not a number SMS can reach
    assert keys(candidate(), ADDED + timedelta(hours=25)) != []  # reminders by then...
    assert "invitation:email:7" not in keys(candidate(), ADDED + timedelta(hours=25))  # ...no late invitation


def test_reminders_come_at_24_and_48_hours_and_the_day_before_the_deadline_until_they_start() -> None:
    at_49h = keys(candidate(), ADDED + timedelta(hours=49))
    assert "reminder_not_started:24:email:7" in at_49h and "reminder_not_started:48:email:7" in at_49h
    assert keys(candidate(), ADDED + timedelta(days=6, hours=1))[-1] == "reminder_deadline:20261214:sms:7"
    assert keys(candidate(status="in_progress"), ADDED + timedelta(hours=49)) == []
    assert keys(candidate(), ADDED + timedelta(days=8)) == []  # past the deadline: nothing


def test_planning_twice_schedules_each_message_once(store: SessionStore) -> None:
    interviews = Interviews(store.engine)
    form = InterviewForm(title="Barista", role="Barista", questions=(QuestionForm("Why coffee?"),))
    row = interviews.create(form)
    interviews.publish(row.slug)
    robin = Candidates(store.engine, now=lambda: ADDED).add(slug=row.slug, name="Robin Reader",
                                                            email="robin@example.com", phone="(415) 555-0100")
    outbox = Outbox(store.engine, now=lambda: ADDED)
    assert plan(outbox, CONFIG, ADDED) == 2
    assert plan(outbox, CONFIG, ADDED) == 0
    sms, email = outbox.due(ADDED)[1], outbox.due(ADDED)[0]
    assert (email.channel, email.recipient, sms.recipient) == ("email", "robin@example.com", "+14155550100")
    assert f"https://jobs.example.com/i/{robin.token}" in email.body_text and robin.token in sms.body_text
    assert "Hi Robin," in email.body_text and "Acme" in email.subject and "3 minutes" in email.body_text


def test_phone_numbers_become_e164() -> None:
    assert e164("(415) 555-0100") == "+14155550100"
    assert e164("+44 20 7946 0958") == "+442079460958"
    assert e164("12345") == "" and e164("") == ""


def test_an_interview_can_turn_reminders_and_sms_off_and_set_its_deadline() -> None:
    quiet = InterviewSettings(deadline_days=3, sms_invitations=False, remind_not_started=False)
    at_49h = keys_with(candidate(), ADDED + timedelta(hours=49), quiet)
    assert at_49h == ["reminder_deadline:20261210:email:7"]  # 3 days: the deadline notice is due
    assert keys_with(candidate(), ADDED + timedelta(days=3), quiet) == []  # closed
    assert keys_with(candidate(), ADDED, InterviewSettings(sms_invitations=True),
                     OutreachConfig(base_url="x")) == ["invitation:email:7", "invitation:sms:7"]


def test_a_candidates_own_deadline_wins_and_an_extension_gets_its_own_notice() -> None:
    late = candidate()
    late.deadline_at = ADDED + timedelta(days=20)
    assert "reminder_deadline:20261214:email:7" not in keys(late, ADDED + timedelta(days=6, hours=1))
    assert "reminder_deadline:20261227:email:7" in keys(late, ADDED + timedelta(days=19, hours=1))
    later, usual = ADDED + timedelta(days=19, hours=1), ADDED + timedelta(days=6, hours=1)
    assert keys(late, later) != keys(candidate(), usual)


def test_a_started_candidate_whose_link_is_still_open_is_reminded_once_to_finish() -> None:
    started = ADDED + timedelta(hours=3)
    open_config = OutreachConfig(base_url="x", link_open=lambda cid: cid == 7)
    closed_config = OutreachConfig(base_url="x", link_open=lambda cid: False)
    ended = candidate(status="ended_early")
    assert keys(ended, started + timedelta(hours=1), open_config) == []  # too soon
    assert [d.key for d in triggers(ended, open_config, started + timedelta(hours=2), None, started)] == [
        "reminder_unfinished:email:7"]
    assert list(triggers(ended, closed_config, started + timedelta(hours=2), None, started)) == []
    no_rules = OutreachConfig(base_url="x")
    assert list(triggers(ended, no_rules, started + timedelta(hours=2), None, started)) == []


def test_each_candidate_gets_one_variant_and_the_split_is_even(store: SessionStore) -> None:
    saved = TemplateStore(store.engine)
    body = "Hi {first_name}, variant {company}: {link}"
    for variant in "AB":
        saved.save("barista", templates.Template(MessageKind.INVITATION, ChannelName.SMS, body, "", variant))
    chosen = [saved.choose("barista", MessageKind.INVITATION, ChannelName.SMS, cid).variant
              for cid in range(10)]
    assert chosen.count("A") == chosen.count("B") == 5
    assert saved.choose("other", MessageKind.INVITATION, ChannelName.SMS, 3).variant == "default"
    with pytest.raises(Invalid, match=r"unknown variable \{frist_name\}"):
        saved.save("barista", templates.Template(MessageKind.NUDGE, ChannelName.SMS, "{frist_name} {link}"))
    with pytest.raises(Invalid, match="needs a subject"):
        saved.save("barista", templates.Template(MessageKind.NUDGE, ChannelName.EMAIL, "{link}"))
    assert saved.delete("barista", MessageKind.INVITATION, ChannelName.SMS, "B")
    assert saved.variants("barista", MessageKind.INVITATION, ChannelName.SMS)[0].variant == "A"


def test_planning_uses_the_interviews_settings_and_templates(store: SessionStore) -> None:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Cook", role="Line cook", questions=(QuestionForm("Why?"),)))
    interviews.publish(row.slug)
    sam = Candidates(store.engine, now=lambda: ADDED).add(
        slug=row.slug, name="Sam Lee", email="s@example.com", phone="(415) 555-0101")
    OutreachSettingsStore(store.engine).save_interview(row.slug, InterviewSettings(sms_invitations=False))
    TemplateStore(store.engine).save(row.slug, templates.Template(
        MessageKind.INVITATION, ChannelName.EMAIL, "Hello {first_name}! {link}", "Come cook, {first_name}"))
    outbox = Outbox(store.engine, now=lambda: ADDED)
    assert plan(outbox, CONFIG, ADDED) == 1  # CONFIG has SMS on; the interview turned it off
    (email,) = outbox.due(ADDED)
    assert (email.subject, email.variant) == ("Come cook, Sam", "A")
    assert email.body_text == f"Hello Sam! https://jobs.example.com/i/{sam.token}"


def test_guardrails_saved_on_the_settings_page_win_over_the_defaults(store: SessionStore) -> None:
    saved = OutreachSettingsStore(store.engine)
    defaults = Rules(company_zone="Europe/Paris")
    assert saved.rules(defaults) == defaults
    saved.save_rules(Rules(enabled=False, window_start=8, weekends=True, sms_gap=timedelta(minutes=90)))
    rules = saved.rules(defaults)
    assert (rules.enabled, rules.window_start, rules.weekends, rules.company_zone) == (
        False, 8, True, "Europe/Paris")
    assert rules.sms_gap == timedelta(minutes=90)
    with pytest.raises(Invalid, match="choose 1 to 90"):
        InterviewSettings(deadline_days=0)
