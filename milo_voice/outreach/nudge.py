"""A recruiter's nudge: one message to one candidate, now, on every channel they can get, in the
interview's own words (the nudge template variant this candidate gets, `TemplateStore.choose`,
rendered over `planner.values`). Bulk nudges run the same per candidate and report each.

Scheduling is all this does: the dispatcher still decides at send time, so the guardrails apply
(a nudge passes a "needs a person" pause, but quiet hours, the daily cap and the gap between nudges
defer it; an opt-out made after the press suppresses it). Each press has its own dedupe key
(`nudge:{channel}:{candidate}:{time to the microsecond}`), so pressing again schedules again and
the policy's nudge gap, not the key, keeps a candidate from being pestered. Who asked is written on
the message's "scheduled" event (`by`) and logged.

Refused (`Invalid`, with the reason): no channel configured on this server; a candidate with no
channel they can get (no address, a number no SMS reaches, an opt-out); one who has finished or
was decided on; one whose deadline has passed (their link is closed: extend it first).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import func, select

from milo_voice.outreach import planner, templates
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.email_channel import SmtpConfig
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.phones import e164
from milo_voice.outreach.planner import OutreachConfig
from milo_voice.outreach.settings_store import interview_settings
from milo_voice.outreach.sms_channel import SmsConfig
from milo_voice.outreach.template_store import TemplateStore
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid, NotFound, Repo, get_row
from milo_voice.store.tables import Candidate, CandidateContact, CandidateStatus, Interview, Question

log = logging.getLogger(__name__)

DONE = (CandidateStatus.COMPLETED.value, CandidateStatus.EVALUATING.value, CandidateStatus.SHORTLISTED.value,
        CandidateStatus.DISMISSED.value, CandidateStatus.KNOCKED_OUT.value)
"""Statuses with nothing to nudge about: the interview is done, or a recruiter decided."""
NO_CHANNEL = ("no channel is configured to send on: set MILO_SMTP_HOST for email and/or the "
              "MILO_TWILIO_* account with MILO_SMS_FROM for SMS (docs/outreach.md)")
GUARDRAILS = ("The guardrails still apply when a nudge goes out: outside the candidate's allowed hours, "
              "over the day's cap or within the gap since their last nudge it is deferred (not dropped); "
              "the message log shows when.")
"""What a recruiter is told after a nudge (the flash message, the API's `note`)."""


def available(settings: Settings) -> frozenset[ChannelName]:
    """The channels this server sends on: exactly those `serve` builds (`outreach.compose`), read from
    the settings alone (no client is built, nothing is contacted)."""
    found = {ChannelName.EMAIL: SmtpConfig.from_settings(settings) is not None,
             ChannelName.SMS: SmsConfig.from_settings(settings) is not None}
    return frozenset(channel for channel, on in found.items() if on)


def config_from(settings: Settings) -> OutreachConfig:
    """The planner's configuration as `serve` builds it: the link's base, the names, the channels."""
    return OutreachConfig(base_url=settings.base_url.rstrip("/"), company=settings.company_name,
                          sender_name=settings.outreach_sender, channels=available(settings))


@dataclass(frozen=True, slots=True)
class Nudged:
    """What became of one candidate's nudge."""

    candidate_id: int
    name: str = ""
    scheduled: tuple[tuple[ChannelName, int], ...] = ()
    """(channel, message id) of each nudge scheduled."""
    notes: tuple[str, ...] = ()
    """Channels not used, and why ("opted out of SMS")."""
    skipped: str = ""
    """Why nothing was scheduled; "" when something was."""

    @property
    def channels(self) -> list[str]:
        return [channel.value for channel, _ in self.scheduled]


@dataclass(frozen=True, slots=True)
class _Target:
    candidate: Candidate
    interview: Interview
    questions: int
    ends: datetime
    contact: CandidateContact


def routes(candidate: Candidate, contact: CandidateContact, channels: frozenset[ChannelName]
           ) -> tuple[list[tuple[ChannelName, str]], list[str]]:
    """The (channel, recipient) pairs this candidate can get, and why each other channel is out."""
    found: list[tuple[ChannelName, str]] = []
    why: list[str] = []
    if ChannelName.EMAIL not in channels:
        why += ["email is not configured on this server"] if candidate.email else []
    elif not candidate.email:
        why.append("no email address")
    elif contact.email_opt_out:
        why.append("opted out of email")
    else:
        found.append((ChannelName.EMAIL, candidate.email))
    number, phone = e164(candidate.phone), candidate.phone.strip()
    if ChannelName.SMS not in channels:
        why += ["SMS is not configured on this server"] if phone else []
    elif not phone:
        why.append("no phone number")
    elif not number:
        why.append(f"no SMS reaches {phone!r}")
    elif contact.sms_opt_out:
        why.append("opted out of SMS")
    else:
        found.append((ChannelName.SMS, number))
    return found, why


class Nudges(Repo):
    def nudge(self, candidate_id: int, config: OutreachConfig, *, by: str) -> Nudged:
        """Schedule a nudge now on each channel the candidate can get; `by` is who asked (kept on the
        message's log). `Invalid` says why nothing could be scheduled; `NotFound` an unknown id."""
        if not config.channels:
            raise Invalid(NO_CHANNEL)
        target, now = self._target(candidate_id), self.now()
        candidate = target.candidate
        if candidate.status in DONE:
            raise Invalid(f"{candidate.name} is {candidate.status.replace('_', ' ')}: a nudge is for a "
                          "candidate who has not finished the interview")
        if now >= target.ends:
            raise Invalid(f"{candidate.name}'s deadline ({target.ends:%Y-%m-%d %H:%M} UTC) has passed, so "
                          "their link is closed: extend the deadline first")
        found, notes = routes(candidate, target.contact, config.channels)
        if not found:
            raise Invalid(f"{candidate.name} cannot be nudged: {'; '.join(notes)}")
        values = planner.values(candidate, target.interview, target.questions, config, target.ends)
        scheduled = []
        for channel, recipient in found:
            message_id = self._schedule(target, channel, recipient, values, now, by)
            if message_id is None:
                notes.append(f"a nudge by {channel.value} was scheduled at this very moment already")
            else:
                scheduled.append((channel, message_id))
        log.info("outreach.nudge", extra={"candidate_id": candidate_id, "by": by,
                                          "channels": [c.value for c, _ in scheduled],
                                          "messages": [m for _, m in scheduled], "not_used": notes})
        return Nudged(candidate_id, candidate.name, tuple(scheduled), tuple(notes))

    def nudge_many(self, candidate_ids: Sequence[int], config: OutreachConfig, *, by: str) -> list[Nudged]:
        """`nudge` for each candidate (each id once, in order): a refusal skips that candidate with its
        reason. No channel configured refuses the whole batch (`Invalid`)."""
        if not config.channels:
            raise Invalid(NO_CHANNEL)
        results = []
        for cid in dict.fromkeys(candidate_ids):
            try:
                results.append(self.nudge(cid, config, by=by))
            except (Invalid, NotFound) as exc:
                log.info("outreach.nudge_skipped", extra={"candidate_id": cid, "by": by, "reason": str(exc)})
                results.append(Nudged(cid, skipped=str(exc)))
        return results

    def _target(self, candidate_id: int) -> _Target:
        with self.unit() as session:
            candidate = get_row(session, Candidate, candidate_id)
            interview = get_row(session, Interview, candidate.interview_id)
            questions = session.exec(select(func.count()).select_from(Question)
                                     .where(Question.interview_id == interview.id)).one()
            ends = planner.deadline(candidate, interview_settings(session, interview.slug))
        contact = Contacts(self.engine, now=self.now).get(candidate_id)
        return _Target(candidate, interview, int(questions), ends, contact)

    def _schedule(self, target: _Target, channel: ChannelName, recipient: str, values: dict[str, str],
                  now: datetime, by: str) -> int | None:
        cid, slug = target.candidate.id or 0, target.interview.slug
        template = TemplateStore(self.engine, now=self.now).choose(slug, MessageKind.NUDGE, channel, cid)
        try:
            message = templates.render(template, values)
        except ValueError as exc:  # a stored variant is checked when saved; this is a last guard
            raise Invalid(f"the {channel.value} nudge of {slug!r} cannot be rendered: {exc}") from exc
        return Outbox(self.engine, now=self.now).schedule(
            candidate_id=cid, kind=MessageKind.NUDGE, channel=channel,
            dedupe_key=f"nudge:{channel.value}:{cid}:{now:%Y%m%d%H%M%S%f}", recipient=recipient,
            subject=message.subject, body_text=message.text, body_html=message.html, due_at=now,
            template=f"{MessageKind.NUDGE.value}:{channel.value}", variant=template.variant,
            detail={"by": by})
