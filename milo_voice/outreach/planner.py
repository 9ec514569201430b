"""Planning: which messages are due for which candidates, scheduled idempotently in the outbox.

Run every few seconds by the outreach worker (and once at once when a candidate is added). Each
trigger has a dedupe key, so planning twice, or on two servers, schedules each message once:

- **invitation**: a candidate added (by hand, in bulk, through the API, from a share link) within
  the last `INVITE_WINDOW` who has not started: email always (when they have an address), SMS too
  when SMS invitations are on and they have a phone number. The window keeps a database upgraded
  to this version from inviting every candidate it ever had.
- **reminders, not started**: `REMINDER_HOURS` (24 h and 48 h) after they were added, if they still
  have not started.
- **reminder, deadline**: 24 h before the deadline (`deadline_days` after they were added), if not
  finished.
The policy (quiet hours, caps, opt-outs, the company switch) is applied when a message is
dispatched, not here: a message planned at 23:00 local time is deferred, not dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from milo_voice.outreach import templates
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.phones import e164
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.store.tables import Candidate, CandidateStatus, Interview, Question

INVITE_WINDOW = timedelta(hours=24)
REMINDER_HOURS = (24, 48)
DEADLINE_NOTICE = timedelta(hours=24)
NOT_STARTED = (CandidateStatus.NEW.value, CandidateStatus.INVITED.value)
MINUTES_PER_QUESTION = 3


@dataclass(frozen=True, slots=True)
class OutreachConfig:
    base_url: str
    company: str = "our team"
    sender_name: str = "The hiring team"
    sms_invitations: bool = False
    deadline_days: int = 7
    channels: frozenset[ChannelName] = frozenset(ChannelName)
    """The channels this server can send on: nothing is planned for the others."""


@dataclass(frozen=True, slots=True)
class Due:
    candidate: Candidate
    kind: MessageKind
    channel: ChannelName
    key: str
    at: datetime


def plan(outbox: Outbox, config: OutreachConfig, now: datetime) -> int:
    """Schedule every message due by `now` that is not scheduled yet; returns how many were new."""
    with outbox.unit() as session:
        rows = list(session.exec(
            select(Candidate, Interview).join(Interview, col(Candidate.interview_id) == col(Interview.id))
            .where(col(Candidate.created_at) >= now - timedelta(days=config.deadline_days + 3))
        ))
        questions = _question_counts(session, {i.id for _, i in rows if i.id is not None})
    new = 0
    for candidate, interview in rows:
        for due in triggers(candidate, config, now):
            new += _schedule(outbox, due, interview, questions.get(interview.id or 0, 0), config) is not None
    return new


def triggers(candidate: Candidate, config: OutreachConfig, now: datetime) -> Iterator[Due]:
    """The messages due for this candidate by `now` (pure; scheduling them twice does nothing)."""
    added, status = candidate.created_at, candidate.status
    sms = config.sms_invitations and bool(e164(candidate.phone))
    channels = [c for c, ok in ((ChannelName.EMAIL, bool(candidate.email)), (ChannelName.SMS, sms))
                if ok and c in config.channels]
    deadline = added + timedelta(days=config.deadline_days)
    for channel in channels:
        cid = candidate.id
        if status in NOT_STARTED and now - added <= INVITE_WINDOW:
            yield Due(candidate, MessageKind.INVITATION, channel, f"invitation:{channel}:{cid}", now)
        for hours in REMINDER_HOURS:
            at = added + timedelta(hours=hours)
            if status in NOT_STARTED and at <= now < deadline:
                yield Due(candidate, MessageKind.REMINDER_NOT_STARTED, channel,
                          f"reminder_not_started:{hours}:{channel}:{cid}", now)
        if status in NOT_STARTED and deadline - DEADLINE_NOTICE <= now < deadline:
            yield Due(candidate, MessageKind.REMINDER_DEADLINE, channel,
                      f"reminder_deadline:{channel}:{cid}", now)


def _schedule(
    outbox: Outbox, due: Due, interview: Interview, questions: int, config: OutreachConfig
) -> int | None:
    candidate = due.candidate
    template = templates.DEFAULTS[(due.kind, due.channel)]
    deadline = candidate.created_at + timedelta(days=config.deadline_days)
    message = templates.render(template, {
        "first_name": templates.first_name(candidate.name), "role": interview.role or interview.title,
        "company": config.company, "sender_name": config.sender_name,
        "link": f"{config.base_url}/i/{candidate.token}", "deadline": deadline.strftime("%A %-d %B"),
        "duration": f"{max(1, questions) * MINUTES_PER_QUESTION} minutes",
    })
    return outbox.schedule(
        candidate_id=candidate.id or 0, kind=due.kind, channel=due.channel, dedupe_key=due.key,
        recipient=candidate.email if due.channel is ChannelName.EMAIL else e164(candidate.phone),
        subject=message.subject, body_text=message.text, body_html=message.html, due_at=due.at,
        template=f"{due.kind}:{due.channel}", variant="default",
    )


def _question_counts(session: Session, interview_ids: set[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    query = select(Question.interview_id).where(col(Question.interview_id).in_(interview_ids))
    for iid in session.exec(query):
        counts[iid] = counts.get(iid, 0) + 1
    return counts

