"""The guardrails on explicit clocks: quiet hours in the candidate's zone (US, EU, Indian numbers;
weekends; DST), caps and gaps, opt-outs, the pause and the company switch; and Hypothesis showing
that no sequence of triggers breaks a cap or sends in quiet hours."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from milo_voice.outreach.guardrails import Contact, Rules, Sent, decide, zone_of
from milo_voice.outreach.types import ChannelName, Decision, MessageKind

RULES = Rules()
EMAIL, SMS = ChannelName.EMAIL, ChannelName.SMS
REMIND, NUDGE = MessageKind.REMINDER_NOT_STARTED, MessageKind.NUDGE
US, UK = Contact(phone="+1 415 555 0100"), Contact(phone="+44 20 7946 0958")
IN = Contact(phone="+91 98765 43210")
LA = "America/Los_Angeles"


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


def test_the_zone_comes_from_the_explicit_setting_else_the_number_else_the_company() -> None:
    assert zone_of(US, RULES).key == "America/Los_Angeles"
    assert zone_of(IN, RULES).key in ("Asia/Calcutta", "Asia/Kolkata")
    assert zone_of(Contact(phone="+1 415 555 0100", time_zone="Europe/Berlin"), RULES).key == "Europe/Berlin"
    assert zone_of(Contact(), Rules(company_zone="Europe/Paris")).key == "Europe/Paris"


def test_a_reminder_due_at_23_local_goes_out_at_the_next_windows_start_in_the_right_zone() -> None:
    for contact, zone in ((US, "America/Los_Angeles"), (UK, "Europe/London"), (IN, "Asia/Kolkata")):
        due = local(zone, 2026, 12, 8, 23, 0)  # a Tuesday
        verdict = decide(REMIND, EMAIL, contact, [], due, RULES)
        assert verdict.decision is Decision.DEFER and "quiet hours" in verdict.reason
        assert verdict.until == local(zone, 2026, 12, 9, 9, 0)
        assert decide(REMIND, EMAIL, contact, [], verdict.until, RULES).decision is Decision.SEND


def test_friday_night_waits_for_monday_unless_weekends_are_on() -> None:
    friday = local("America/Los_Angeles", 2026, 12, 11, 23, 0)
    assert decide(REMIND, EMAIL, US, [], friday, RULES).until == local(LA, 2026, 12, 14, 9, 0)
    weekends = Rules(weekends=True)
    assert decide(REMIND, EMAIL, US, [], friday, weekends).until == local(LA, 2026, 12, 12, 9, 0)


def test_the_window_opens_at_nine_local_across_the_dst_change() -> None:
    night = local("America/Los_Angeles", 2027, 3, 14, 1, 30)  # Sunday; clocks go forward at 2:00
    verdict = decide(REMIND, EMAIL, US, [], night, Rules(weekends=True))
    assert verdict.until is not None and verdict.until.astimezone(ZoneInfo("America/Los_Angeles")).hour == 9
    assert verdict.until - night == timedelta(hours=6, minutes=30)  # 7.5 h of wall clock, one hour lost


def test_caps_and_gaps_defer() -> None:
    noon = local("America/Los_Angeles", 2026, 12, 8, 12, 0)
    three = [Sent(noon - timedelta(hours=h), EMAIL, REMIND) for h in (1, 2, 3)]
    capped = decide(MessageKind.INVITATION, EMAIL, US, three, noon, RULES)
    assert capped.decision is Decision.DEFER and capped.until == local(LA, 2026, 12, 9, 9, 0)
    texted = [Sent(noon - timedelta(minutes=20), SMS, MessageKind.INVITATION)]
    assert decide(REMIND, SMS, US, texted, noon, RULES).until == noon + timedelta(minutes=40)
    assert decide(REMIND, EMAIL, US, texted, noon, RULES).decision is Decision.SEND  # the gap is SMS only
    nudged = [Sent(noon - timedelta(hours=5), EMAIL, NUDGE)]
    assert decide(NUDGE, EMAIL, US, nudged, noon, RULES).until == noon + timedelta(hours=19)


def test_opt_outs_the_pause_the_reminder_limit_and_the_company_switch_suppress() -> None:
    noon = local("America/Los_Angeles", 2026, 12, 8, 12, 0)
    stopped = Contact(phone=US.phone, sms_opt_out=True)
    assert decide(REMIND, SMS, stopped, [], noon, RULES).reason == "the candidate opted out of texts (STOP)"
    assert decide(REMIND, EMAIL, stopped, [], noon, RULES).decision is Decision.SEND
    unsubscribed = Contact(phone=US.phone, email_opt_out=True)
    assert decide(NUDGE, EMAIL, unsubscribed, [], noon, RULES).decision is Decision.SUPPRESS
    paused = Contact(phone=US.phone, paused=True)
    assert decide(REMIND, EMAIL, paused, [], noon, RULES).decision is Decision.SUPPRESS
    assert decide(NUDGE, EMAIL, paused, [], noon, RULES).decision is Decision.SEND  # by hand
    old = [Sent(noon - timedelta(days=d), EMAIL, REMIND) for d in (1, 2, 3)]
    assert "at most 3" in decide(REMIND, EMAIL, US, old, noon, RULES).reason
    off = decide(MessageKind.INVITATION, EMAIL, US, [], noon, Rules(enabled=False))
    assert off.decision is Decision.SUPPRESS and "turned off" in off.reason


KINDS = st.sampled_from([k for k in MessageKind if k is not MessageKind.SMS_INTERVIEW])
"""Outreach's own messages: an SMS interview's are a conversation, held back by quiet hours only (below)."""
CHANNELS = st.sampled_from([EMAIL, SMS])
CONTACTS = st.sampled_from([US, UK, IN, Contact(time_zone="Pacific/Auckland")])
STEPS = st.lists(st.tuples(KINDS, CHANNELS, st.integers(0, 36 * 60)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(contact=CONTACTS, steps=STEPS, weekends=st.booleans())
def test_no_sequence_of_triggers_breaks_a_cap_or_sends_in_quiet_hours(
    contact: Contact, steps: list[tuple[MessageKind, ChannelName, int]], weekends: bool
) -> None:
    rules = Rules(weekends=weekends)
    zone = zone_of(contact, rules)
    now = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    sent: list[Sent] = []
    for kind, channel, minutes in steps:
        now += timedelta(minutes=minutes)
        at = now
        for _ in range(20):  # a deferred message is decided again at its new time
            verdict = decide(kind, channel, contact, sent, at, rules)
            if verdict.decision is not Decision.DEFER:
                break
            assert verdict.until is not None and verdict.until > at
            at = verdict.until
        if verdict.decision is Decision.SEND:
            sent.append(Sent(at, channel, kind))
    by_day: dict[object, int] = {}
    for s in sent:
        t = s.at.astimezone(zone)
        assert rules.window_start <= t.hour < rules.window_end and (weekends or t.weekday() < 5)
        by_day[t.date()] = by_day.get(t.date(), 0) + 1
    assert max(by_day.values(), default=0) <= rules.daily_cap
    assert sum(1 for s in sent if s.kind.is_reminder) <= rules.max_reminders
    texts = sorted(s.at for s in sent if s.channel is SMS)
    assert all(b - a >= rules.sms_gap for a, b in itertools.pairwise(texts))
    nudges = sorted(s.at for s in sent if s.kind is NUDGE)
    assert all(b - a >= rules.nudge_gap for a, b in itertools.pairwise(nudges))


def test_an_sms_interview_is_held_back_by_quiet_hours_and_opt_outs_only() -> None:
    noon = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles
    busy = [Sent(noon - timedelta(minutes=m), SMS, MessageKind.SMS_INTERVIEW) for m in (1, 2, 3, 4, 5)]
    assert decide(MessageKind.SMS_INTERVIEW, SMS, US, busy, noon, RULES).decision is Decision.SEND
    assert decide(MessageKind.INVITATION, SMS, US, busy, noon, RULES).decision is Decision.DEFER
    night = decide(MessageKind.SMS_INTERVIEW, SMS, US, [], noon + timedelta(hours=10), RULES)
    assert night.decision is Decision.DEFER and "quiet hours" in night.reason
    opted_out = Contact(phone=US.phone, sms_opt_out=True)
    stopped = decide(MessageKind.SMS_INTERVIEW, SMS, opted_out, [], noon, RULES)
    assert stopped.decision is Decision.SUPPRESS
