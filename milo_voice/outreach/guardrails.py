"""The one policy every message to a candidate passes. Pure and clock-driven: `now` comes in, a
`Verdict` (send, defer until a time, or suppress, with the reason) comes out.

The rules, in the order they are checked:
1. The company switch (`Rules.enabled` false: "Turn off all candidate communications"): suppressed.
2. An opt-out of the message's channel (STOP stops SMS, unsubscribe stops email; "stop all"
   sets both): suppressed.
3. Paused ("needs a person"): automatic messages are suppressed; a recruiter's nudge is sent by
   hand and passes.
4. More than `max_reminders` reminders: suppressed.
5. Quiet hours in the candidate's local time (their explicit zone, else their phone number's
   region, else the company's): outside `window_start`-`window_end`, or on a weekend when
   weekends are off, the message is deferred to the start of the next allowed window. Deferred,
   never dropped.
6. `daily_cap` messages per candidate per local day: deferred to the next allowed window.
7. At most one SMS per `sms_gap` (an hour): deferred until the gap has passed.
   Neither 6 nor 7 holds back an SMS interview's messages (a conversation the candidate is in).
8. `nudge_gap` between nudges: deferred until it has passed.
A deferred message is decided again at its new time, so a deferral never breaks another rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones

from milo_voice.outreach.phones import e164
from milo_voice.outreach.types import ChannelName, Decision, MessageKind, Verdict


@dataclass(frozen=True, slots=True)
class Rules:
    enabled: bool = True
    window_start: int = 9
    """Local hour the allowed window opens."""
    window_end: int = 20
    """Local hour it closes (messages at 20:00 and later wait for the next morning)."""
    weekends: bool = False
    daily_cap: int = 3
    max_reminders: int = 3
    sms_gap: timedelta = timedelta(hours=1)
    nudge_gap: timedelta = timedelta(hours=24)
    company_zone: str = "UTC"

    def __post_init__(self) -> None:
        if not 0 <= self.window_start < self.window_end <= 24:
            raise ValueError(f"allowed window {self.window_start}-{self.window_end} h: expected "
                             "0 <= start < end <= 24 (a window over midnight is not supported)")
        if self.daily_cap < 1 or self.max_reminders < 0:
            raise ValueError(f"daily cap {self.daily_cap} (>= 1) / max reminders {self.max_reminders} (>= 0)")
        try:
            ZoneInfo(self.company_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"company time zone {self.company_zone!r} is not an IANA zone") from None


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str = ""
    time_zone: str = ""
    email_opt_out: bool = False
    sms_opt_out: bool = False
    paused: bool = False


@dataclass(frozen=True, slots=True)
class Sent:
    """A message already sent (or being handed over) to the candidate."""

    at: datetime
    channel: ChannelName
    kind: MessageKind


def zone_of(contact: Contact, rules: Rules) -> ZoneInfo:
    """The candidate's zone: explicit, else their number's: when `phonenumbers` gives several
    (it lists them alphabetically: +1 800 numbers get every North American zone), the company's
    zone if it is one of them, else the first; else the company's zone."""
    names = [contact.time_zone] if contact.time_zone else []
    number = e164(contact.phone)
    if number:
        listed = [z for z in phone_zones.time_zones_for_number(phonenumbers.parse(number)) if "/" in z]
        names += [rules.company_zone] if rules.company_zone in listed else listed
    for name in [*names, rules.company_zone, "UTC"]:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def decide(kind: MessageKind, channel: ChannelName, contact: Contact, history: Sequence[Sent],
           now: datetime, rules: Rules) -> Verdict:
    """The verdict for one message at `now` (see the module docstring for the rules)."""
    stop = _suppressed(kind, channel, contact, history, rules)
    if stop:
        return Verdict(Decision.SUPPRESS, stop)
    zone = zone_of(contact, rules)
    local = now.astimezone(zone)
    if not _allowed(local, rules):
        return Verdict(Decision.DEFER, f"quiet hours in {zone.key}", next_window(now, zone, rules))
    if kind is MessageKind.SMS_INTERVIEW:
        return Verdict(Decision.SEND, f"allowed at {local:%a %H:%M} {zone.key} (SMS interview in progress)")
    today = [s for s in history if s.at.astimezone(zone).date() == local.date()]
    if len(today) >= rules.daily_cap:
        return Verdict(Decision.DEFER, f"daily cap of {rules.daily_cap} reached",
                       next_window(now, zone, rules, after_today=True))
    gaps = ((rules.sms_gap, "SMS", [s.at for s in history if s.channel is ChannelName.SMS]
             if channel is ChannelName.SMS else []),
            (rules.nudge_gap, "nudge", [s.at for s in history if s.kind is MessageKind.NUDGE]
             if kind is MessageKind.NUDGE else []))
    for gap, what, times in gaps:
        if times and now - max(times) < gap:
            return Verdict(Decision.DEFER, f"one {what} per {_hours(gap)}", max(times) + gap)
    return Verdict(Decision.SEND, f"allowed at {local:%a %H:%M} {zone.key}")


def _suppressed(kind: MessageKind, channel: ChannelName, contact: Contact, history: Sequence[Sent],
                rules: Rules) -> str:
    if not rules.enabled:
        return "candidate communications are turned off for the company"
    if channel is ChannelName.SMS and contact.sms_opt_out:
        return "the candidate opted out of texts (STOP)"
    if channel is ChannelName.EMAIL and contact.email_opt_out:
        return "the candidate unsubscribed from email"
    if contact.paused and kind is not MessageKind.NUDGE:
        return "automation is paused: the candidate needs a person"
    reminders = sum(1 for s in history if s.kind.is_reminder)
    if kind.is_reminder and reminders >= rules.max_reminders:
        return f"the candidate has had {reminders} reminders (at most {rules.max_reminders})"
    return ""


def _allowed(local: datetime, rules: Rules) -> bool:
    weekday_ok = rules.weekends or local.weekday() < 5
    return weekday_ok and rules.window_start <= local.hour < rules.window_end


def next_window(now: datetime, zone: ZoneInfo, rules: Rules, *, after_today: bool = False) -> datetime:
    """The start of the next allowed window after `now` (tomorrow's or later with `after_today`)."""
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=1 if after_today or local.hour >= rules.window_start else 0)
    for _ in range(8):
        start = datetime.combine(day, time(rules.window_start), tzinfo=zone)
        if (rules.weekends or start.weekday() < 5) and start > now:
            return start.astimezone(UTC)  # as the outbox stores it (a wall time in a DST gap is not)
        day += timedelta(days=1)
    raise AssertionError("no allowed day within a week")  # weekdays always come


def _hours(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    return f"{hours:g} h"
