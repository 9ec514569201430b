"""The guardrails (`outreach.guardrails`) rule by rule on explicit clocks, beyond test_guardrails.py:
quiet hours for US, UK, German, French and Indian numbers (weeknights and Fridays), deferrals across
the US and EU DST changes with weekends off, the zone fallbacks, daily caps counted in local days,
invitations and nudges against the reminder limit, gaps that land in quiet hours, and suppression
beating deferral. Then Hypothesis: random trigger sequences starting near DST changes, in zones with
half- and quarter-hour offsets, under random windows and caps, never break a cap, never send in
quiet hours, and every quiet-hours deferral lands on the next allowed window's start."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as phone_zones

from milo_voice.outreach.guardrails import Contact, Rules, Sent, decide, zone_of
from milo_voice.outreach.types import ChannelName, Decision, MessageKind, Verdict

RULES = Rules()
EMAIL, SMS = ChannelName.EMAIL, ChannelName.SMS
INVITE, NUDGE = MessageKind.INVITATION, MessageKind.NUDGE
REMIND, DEADLINE = MessageKind.REMINDER_NOT_STARTED, MessageKind.REMINDER_DEADLINE
LA, BERLIN = "America/Los_Angeles", "Europe/Berlin"
US = Contact(phone="+1 415 555 0100")
INDIA = Contact(phone="+91 98765 43210")
NUMBERS = [  # (phone, the zone names phonenumbers may give its region)
    ("+1 415 555 0100", {LA}),
    ("+44 20 7946 0958", {"Europe/London"}),
    ("+49 30 1234567", {BERLIN}),
    ("+33 1 23 45 67 89", {"Europe/Paris"}),
    ("+91 98765 43210", {"Asia/Kolkata", "Asia/Calcutta"}),
]


def at(zone: str, *args: int) -> datetime:
    """A local wall-clock time in `zone`, as the aware UTC instant the policy takes."""
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


def settle(kind: MessageKind, channel: ChannelName, contact: Contact, history: list[Sent],
           now: datetime, rules: Rules = RULES) -> tuple[Verdict, datetime]:
    """Submit, and re-submit each deferral at its `until`, as the dispatcher does."""
    for _ in range(50):
        verdict = decide(kind, channel, contact, history, now, rules)
        if verdict.decision is not Decision.DEFER:
            return verdict, now
        assert verdict.until is not None and verdict.until > now
        now = verdict.until.astimezone(UTC)  # as the outbox stores it
    raise AssertionError("deferred 50 times in a row")


# -- quiet hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(("phone", "zones"), NUMBERS)
def test_23h_local_goes_out_at_9_the_next_weekday_and_friday_night_on_monday(phone: str,
                                                                             zones: set[str]) -> None:
    contact = Contact(phone=phone)
    zone = zone_of(contact, RULES).key
    assert zone in zones
    for due, expected in ((at(zone, 2026, 12, 8, 23, 0), at(zone, 2026, 12, 9, 9, 0)),    # Tue -> Wed
                          (at(zone, 2026, 12, 11, 23, 0), at(zone, 2026, 12, 14, 9, 0))):  # Fri -> Mon
        verdict = decide(DEADLINE, EMAIL, contact, [], due, RULES)
        assert verdict.decision is Decision.DEFER and verdict.reason == f"quiet hours in {zone}"
        assert verdict.until == expected
        assert decide(DEADLINE, EMAIL, contact, [], expected, RULES).decision is Decision.SEND


def test_the_window_edges_and_an_early_morning_wait_for_the_same_day() -> None:
    assert decide(REMIND, EMAIL, US, [], at(LA, 2026, 12, 9, 9, 0), RULES).decision is Decision.SEND
    assert decide(REMIND, EMAIL, US, [], at(LA, 2026, 12, 9, 19, 59), RULES).decision is Decision.SEND
    assert decide(REMIND, EMAIL, US, [], at(LA, 2026, 12, 9, 20, 0), RULES).until == at(LA, 2026, 12, 10, 9)
    assert decide(REMIND, EMAIL, US, [], at(LA, 2026, 12, 9, 6, 30), RULES).until == at(LA, 2026, 12, 9, 9)
    saturday = at(LA, 2026, 12, 12, 12, 0)
    assert decide(REMIND, EMAIL, US, [], saturday, RULES).until == at(LA, 2026, 12, 14, 9)
    own = Rules(window_start=8, window_end=21, weekends=True)
    assert decide(REMIND, EMAIL, US, [], at(LA, 2026, 12, 12, 7, 0), own).until == at(LA, 2026, 12, 12, 8)
    assert decide(REMIND, EMAIL, US, [], at(LA, 2026, 12, 12, 20, 30), own).decision is Decision.SEND


def test_friday_night_before_a_dst_change_waits_for_monday_nine_in_the_new_offset() -> None:
    spring = decide(REMIND, EMAIL, US, [], at(LA, 2027, 3, 12, 23, 0), RULES)  # US clocks go forward Sun 14th
    assert spring.until == datetime(2027, 3, 15, 16, 0, tzinfo=UTC)  # 09:00 PDT (UTC-7)
    assert spring.until - at(LA, 2027, 3, 12, 23, 0) == timedelta(hours=57)  # 58 wall-clock hours
    autumn = decide(REMIND, EMAIL, US, [], at(LA, 2027, 11, 5, 23, 0), RULES)  # back on Sun 7th
    assert autumn.until == datetime(2027, 11, 8, 17, 0, tzinfo=UTC)  # 09:00 PST (UTC-8)
    berlin = Contact(phone="+49 30 1234567")
    eu = decide(REMIND, EMAIL, berlin, [], at(BERLIN, 2027, 3, 26, 23, 0), RULES)  # EU: Sun 28th
    assert eu.until == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST (UTC+2)


def test_a_window_that_opens_inside_the_spring_forward_gap_waits_for_the_next_day() -> None:
    rules = Rules(window_start=2, window_end=3, weekends=True)  # 02:00-03:00 does not exist on Mar 14
    verdict, sent_at = settle(INVITE, EMAIL, US, [], at(LA, 2027, 3, 14, 0, 30), rules)
    assert verdict.decision is Decision.SEND and sent_at == at(LA, 2027, 3, 15, 2, 0)


def test_the_zone_falls_back_from_explicit_to_number_to_company_to_utc() -> None:
    assert zone_of(Contact(phone=US.phone, time_zone="Asia/Tokyo"), RULES).key == "Asia/Tokyo"
    assert zone_of(Contact(phone=US.phone, time_zone="Mars/Olympus"), RULES).key == LA  # unknown name
    assert zone_of(Contact(phone="not a number"), Rules(company_zone=BERLIN)).key == BERLIN
    toll_free = phonenumbers.parse("+1 800 555 0100")
    listed = phone_zones.time_zones_for_number(toll_free)
    assert len(listed) > 1  # a number that maps to several zones: the first listed, every time
    assert zone_of(Contact(phone="+1 800 555 0100"), RULES).key == listed[0]
    chicago = Rules(company_zone="America/Chicago")  # the company's zone when the number allows it
    assert zone_of(Contact(phone="+1 800 555 0100"), chicago).key == "America/Chicago"


# -- caps and gaps ---------------------------------------------------------------------------


def test_the_daily_cap_counts_local_days_and_defers_to_the_next_window() -> None:
    evening = [Sent(at(LA, 2026, 12, 7, 19, m), EMAIL, INVITE) for m in (0, 10, 20)]  # Mon, = Tue UTC
    tuesday = at(LA, 2026, 12, 8, 9, 0)
    assert evening[0].at.date() == tuesday.date()  # the same UTC day, another local day
    assert decide(REMIND, EMAIL, US, evening, tuesday, RULES).decision is Decision.SEND
    kolkata = zone_of(INDIA, RULES).key
    morning = [Sent(at(kolkata, 2026, 12, 8, 9 + h, 0), EMAIL, INVITE) for h in range(3)]
    capped = decide(REMIND, SMS, INDIA, morning, at(kolkata, 2026, 12, 8, 19, 0), RULES)
    assert capped.decision is Decision.DEFER and capped.reason == "daily cap of 3 reached"
    assert capped.until == at(kolkata, 2026, 12, 9, 9, 0)
    friday = [Sent(at(kolkata, 2026, 12, 11, 10, m), SMS if m else EMAIL, INVITE) for m in (0, 1, 2)]
    assert decide(NUDGE, EMAIL, INDIA, friday, at(kolkata, 2026, 12, 11, 12), RULES).until == \
        at(kolkata, 2026, 12, 14, 9, 0)


def test_invitations_count_toward_the_daily_cap_but_not_the_reminder_limit() -> None:
    noon = at(LA, 2026, 12, 10, 12, 0)
    reminded = [Sent(noon - timedelta(days=d), EMAIL, kind)
                for d, kind in ((1, REMIND), (2, MessageKind.REMINDER_UNFINISHED), (3, DEADLINE))]
    assert decide(INVITE, EMAIL, US, reminded, noon, RULES).decision is Decision.SEND
    assert decide(NUDGE, EMAIL, US, reminded, noon, RULES).decision is Decision.SEND  # by hand, no limit
    limited = decide(REMIND, EMAIL, US, reminded, noon, RULES)
    assert limited.decision is Decision.SUPPRESS and "at most 3" in limited.reason
    assert decide(REMIND, EMAIL, US, reminded[:2], noon, RULES).decision is Decision.SEND
    invited = [Sent(noon - timedelta(minutes=m), EMAIL, INVITE) for m in (10, 20, 30)]
    assert decide(REMIND, EMAIL, US, invited, noon, RULES).decision is Decision.DEFER


def test_one_sms_an_hour_and_a_gap_that_ends_in_quiet_hours_waits_for_the_morning() -> None:
    noon = at(LA, 2026, 12, 8, 12, 0)
    assert decide(REMIND, SMS, US, [Sent(noon - timedelta(minutes=59), SMS, INVITE)], noon, RULES).until \
        == noon + timedelta(minutes=1)
    assert decide(REMIND, SMS, US, [Sent(noon - timedelta(hours=1), SMS, INVITE)], noon,
                  RULES).decision is Decision.SEND
    late = [Sent(at(LA, 2026, 12, 8, 19, 30), SMS, INVITE)]
    first = decide(REMIND, SMS, US, late, at(LA, 2026, 12, 8, 19, 45), RULES)
    assert first.decision is Decision.DEFER and first.until == at(LA, 2026, 12, 8, 20, 30)
    verdict, sent_at = settle(REMIND, SMS, US, late, at(LA, 2026, 12, 8, 19, 45))
    assert verdict.decision is Decision.SEND and sent_at == at(LA, 2026, 12, 9, 9, 0)


def test_the_nudge_gap_is_between_nudges_only() -> None:
    noon = at(LA, 2026, 12, 8, 12, 0)
    nudged = [Sent(noon - timedelta(hours=23), SMS, NUDGE)]
    gap = decide(NUDGE, EMAIL, US, nudged, noon, RULES)
    assert gap.decision is Decision.DEFER and gap.until == noon + timedelta(hours=1)
    assert gap.reason == "one nudge per 24 h"
    assert decide(REMIND, EMAIL, US, nudged, noon, RULES).decision is Decision.SEND
    reminded = [Sent(noon - timedelta(hours=1), EMAIL, REMIND)]
    assert decide(NUDGE, EMAIL, US, reminded, noon, RULES).decision is Decision.SEND


# -- suppression -----------------------------------------------------------------------------


def test_opt_outs_are_per_channel_and_both_flags_stop_everything() -> None:
    noon = at(LA, 2026, 12, 8, 12, 0)
    everything = Contact(phone=US.phone, sms_opt_out=True, email_opt_out=True)
    for kind, channel in itertools.product(MessageKind, ChannelName):
        verdict = decide(kind, channel, everything, [], noon, RULES)
        assert verdict.decision is Decision.SUPPRESS
    emailless = Contact(phone=US.phone, email_opt_out=True)
    assert decide(INVITE, EMAIL, emailless, [], noon, RULES).reason == "the candidate unsubscribed from email"
    assert decide(INVITE, SMS, emailless, [], noon, RULES).decision is Decision.SEND


def test_suppression_wins_over_quiet_hours_and_caps() -> None:
    night = at(LA, 2026, 12, 8, 23, 0)
    full = [Sent(night - timedelta(minutes=m), SMS, INVITE) for m in (5, 6, 7)]
    off = decide(NUDGE, SMS, US, full, night, Rules(enabled=False))
    assert off.decision is Decision.SUPPRESS and off.reason == \
        "candidate communications are turned off for the company"
    stopped = Contact(phone=US.phone, sms_opt_out=True)
    stop = decide(REMIND, SMS, stopped, full, night, RULES)
    assert stop.decision is Decision.SUPPRESS and stop.reason == "the candidate opted out of texts (STOP)"
    paused = Contact(phone=US.phone, paused=True)
    for kind in (INVITE, REMIND, MessageKind.REMINDER_UNFINISHED, DEADLINE):
        verdict = decide(kind, EMAIL, paused, [], night, RULES)
        assert verdict.decision is Decision.SUPPRESS and "needs a person" in verdict.reason
    by_hand = decide(NUDGE, EMAIL, paused, [], night, RULES)  # passes the pause, not the other rules
    assert by_hand.decision is Decision.DEFER and by_hand.until == at(LA, 2026, 12, 9, 9, 0)


# -- properties ------------------------------------------------------------------------------

CONTACTS = st.sampled_from([
    *(Contact(phone=phone) for phone, _ in NUMBERS),
    *(Contact(time_zone=zone) for zone in ("Australia/Sydney", "Pacific/Chatham", "Asia/Kathmandu",
                                            "America/Santiago", "America/St_Johns")),
    Contact(),  # the company's zone
])
DST_CHANGES = [datetime(2027, m, d, tzinfo=UTC) for m, d in
               ((3, 14), (3, 28), (4, 4), (9, 5), (10, 3), (10, 31), (11, 7))]
STARTS = st.one_of(
    st.builds(lambda change, hours: change - timedelta(hours=hours), st.sampled_from(DST_CHANGES),
              st.integers(0, 120)),
    st.datetimes(datetime(2026, 1, 1), datetime(2028, 12, 31)).map(lambda d: d.replace(tzinfo=UTC)),
)
WINDOWS = st.integers(0, 12).flatmap(lambda s: st.tuples(st.just(s), st.integers(s + 1, 24)))
RULESETS = st.builds(
    lambda window, weekends, cap, reminders, company: Rules(
        window_start=window[0], window_end=window[1], weekends=weekends, daily_cap=cap,
        max_reminders=reminders, company_zone=company),
    WINDOWS, st.booleans(), st.integers(1, 4), st.integers(0, 4),
    st.sampled_from(["UTC", "America/New_York", "Europe/London", "Asia/Tokyo"]))
OUTREACH_KINDS = [k for k in MessageKind if k is not MessageKind.SMS_INTERVIEW]
"""An SMS interview's messages are a conversation: the caps do not apply (test_guardrails)."""
STEPS = st.lists(st.tuples(st.sampled_from(OUTREACH_KINDS), st.sampled_from([EMAIL, SMS]),
                           st.integers(0, 30 * 60)), min_size=1, max_size=30)


def allowed(moment: datetime, zone: ZoneInfo, rules: Rules) -> bool:
    """The rule, restated: inside the local window, on a weekday unless weekends are allowed."""
    local = moment.astimezone(zone)
    return rules.window_start <= local.hour < rules.window_end and (rules.weekends or local.weekday() < 5)


def check_deferral(verdict: Verdict, due: datetime, zone: ZoneInfo, rules: Rules) -> None:
    """A deferral moves forward; a quiet-hours one to the first allowed moment (none is skipped)."""
    assert verdict.until is not None and verdict.until > due and verdict.reason
    if verdict.reason.startswith("quiet hours"):
        assert not allowed(due, zone, rules)
        probe = due
        while probe < verdict.until:  # every zone's offset is whole quarter hours; windows last >= 1 h
            assert not allowed(probe, zone, rules), f"an allowed moment {probe} was skipped"
            probe += timedelta(minutes=15)
        local = verdict.until.astimezone(zone)
        assert (local.minute, local.second) == (0, 0)
    elif verdict.reason.startswith("daily cap"):
        assert verdict.until.astimezone(zone).date() > due.astimezone(zone).date()


def run(contact: Contact, start: datetime, rules: Rules,
        steps: list[tuple[MessageKind, ChannelName, int]]) -> list[Sent]:
    """The dispatcher, simulated: due messages in time order; SEND joins the history at its time,
    DEFER comes back at `until` (in UTC, as the outbox stores it), SUPPRESS is dropped."""
    zone = zone_of(contact, rules)
    due, now = [], start
    for seq, (kind, channel, minutes) in enumerate(steps):
        now += timedelta(minutes=minutes)
        due.append((now, seq, kind, channel))
    sent: list[Sent] = []
    for _ in range(len(steps) * 50):
        if not due:
            return sent
        due.sort()
        when, seq, kind, channel = due.pop(0)
        verdict = decide(kind, channel, contact, sent, when, rules)
        if verdict.decision is Decision.SEND:
            assert allowed(when, zone, rules)
            sent.append(Sent(when, channel, kind))
        elif verdict.decision is Decision.DEFER:
            check_deferral(verdict, when, zone, rules)
            assert verdict.until is not None
            due.append((verdict.until.astimezone(UTC), seq, kind, channel))  # as the outbox stores it
    raise AssertionError("messages deferred forever")


@settings(max_examples=200, deadline=None)
@given(contact=CONTACTS, start=STARTS, rules=RULESETS, steps=STEPS)
def test_no_trigger_sequence_breaks_a_cap_or_sends_in_quiet_hours_across_dst(
    contact: Contact, start: datetime, rules: Rules, steps: list[tuple[MessageKind, ChannelName, int]]
) -> None:
    sent = run(contact, start, rules, steps)
    zone = zone_of(contact, rules)
    per_day: dict[object, int] = {}
    for message in sent:
        assert allowed(message.at, zone, rules)
        day = message.at.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert max(per_day.values(), default=0) <= rules.daily_cap
    assert sum(1 for s in sent if s.kind.is_reminder) <= rules.max_reminders
    for channel_or_kind, gap in ((SMS, rules.sms_gap), (NUDGE, rules.nudge_gap)):
        times = sorted(s.at for s in sent if channel_or_kind in (s.channel, s.kind))
        assert all(b - a >= gap for a, b in itertools.pairwise(times)), channel_or_kind


@pytest.mark.parametrize("bad", [dict(window_start=20, window_end=9), dict(daily_cap=0),
                                 dict(company_zone="Nowhere/Else"), dict(window_end=25)])
def test_rules_that_would_defer_forever_or_misread_a_zone_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Rules(**bad)  # type: ignore[arg-type]
