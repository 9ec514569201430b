"""Planning: which messages are due for which candidates, scheduled idempotently in the outbox.

Run every few seconds by the outreach worker. Each trigger has a dedupe key, so planning twice, or
on two servers, schedules each message once. What is planned follows each interview's outreach
settings (`settings_store.InterviewSettings`: the deadline, SMS invitations, which reminders):

- **invitation**: a candidate added (by hand, in bulk, through the API, from a share link) within
  the last `INVITE_WINDOW` who has not started: email always (when they have an address), SMS too
  when SMS invitations are on and they have a phone number. The window keeps a database upgraded
  to this version from inviting every candidate it ever had.
- **reminders, not started**: `REMINDER_HOURS` (24 h and 48 h) after they were added, if they still
  have not started and the deadline has not passed.
- **reminder, unfinished**: `UNFINISHED_AFTER` after their newest session started, if they have
  not finished and their link is still open (a retake is left: `OutreachConfig.link_open`).
- **reminder, deadline**: `DEADLINE_NOTICE` (24 h) before the deadline (the candidate's own, else
  the interview's `deadline_days` after they were added), if not finished. An extended deadline
  gets its own reminder (the key carries the date).
The policy (quiet hours, caps, opt-outs, the company switch) is applied when a message is
dispatched, not here: a message planned at 23:00 local time is deferred, not dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from milo_voice.outreach import templates
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.phones import e164
from milo_voice.outreach.settings_store import MAX_DEADLINE_DAYS, InterviewSettings, OutreachSettingsStore
from milo_voice.outreach.template_store import TemplateStore, pick
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.store.tables import (
    Candidate,
    CandidateStatus,
    Interview,
    InterviewSession,
    Question,
    StageKind,
)

INVITE_WINDOW = timedelta(hours=24)
REMINDER_HOURS = (24, 48)
UNFINISHED_AFTER = timedelta(hours=2)
DEADLINE_NOTICE = timedelta(hours=24)
NOT_STARTED = (CandidateStatus.NEW.value, CandidateStatus.INVITED.value)
STARTED = (CandidateStatus.IN_PROGRESS.value, CandidateStatus.ENDED_EARLY.value)
MINUTES_PER_QUESTION = 3
LOOK_BACK = timedelta(days=MAX_DEADLINE_DAYS + 3)
"""Candidates added longer ago than this are not planned for (their deadline passed)."""


@dataclass(frozen=True, slots=True)
class OutreachConfig:
    base_url: str
    company: str = "our team"
    sender_name: str = "The hiring team"
    sms_invitations: bool = False
    """The server's default (MILO_SMS_INVITATIONS); an interview's setting wins."""
    deadline_days: int = 7
    """Used where an interview has no settings saved (tests; the store's default is 7 too)."""
    channels: frozenset[ChannelName] = frozenset(ChannelName)
    """The channels this server can send on: nothing is planned for the others."""
    link_open: Callable[[int], bool] | None = field(default=None, compare=False)
    """Whether a candidate's link may start an interview now (the workspace's attempt rules); without
    it no unfinished reminder is planned."""


@dataclass(frozen=True, slots=True)
class Due:
    candidate: Candidate
    kind: MessageKind
    channel: ChannelName
    key: str
    at: datetime


def deadline(candidate: Candidate, settings: InterviewSettings) -> datetime:
    """The candidate's deadline: their own, else `deadline_days` after they reached their current stage
    (were added, for the first)."""
    return candidate.deadline_at or entered(candidate) + timedelta(days=settings.deadline_days)


def entered(candidate: Candidate) -> datetime:
    """When the candidate reached their current stage: invitations and reminders count from it."""
    return candidate.stage_entered_at or candidate.created_at


def stage_key(candidate: Candidate) -> str:
    """Dedupe-key part that makes each stage's invitation and reminders their own ("" for stage 1)."""
    return f"s{candidate.stage_position + 1}:" if candidate.stage_position else ""


def plan(outbox: Outbox, config: OutreachConfig, now: datetime) -> int:
    """Schedule every message due by `now` that is not scheduled yet; returns how many were new."""
    with outbox.unit() as session:
        rows = list(session.exec(
            select(Candidate, Interview).join(Interview, col(Candidate.interview_id) == col(Interview.id))
            .where(or_(col(Candidate.created_at) >= now - LOOK_BACK,
                       col(Candidate.stage_entered_at) >= now - LOOK_BACK))
            .where(col(Candidate.status).in_(NOT_STARTED + STARTED))
        ))
        questions = _question_counts(session, {i.id for _, i in rows if i.id is not None})
        started = _newest_starts(session, [c.id for c, _ in rows if c.status in STARTED and c.id])
    store = OutreachSettingsStore(outbox.engine)
    saved = store.interviews()
    variants = TemplateStore(outbox.engine).all_saved()
    known = outbox.keys([c.id for c, _ in rows if c.id is not None])
    new = 0
    for candidate, interview in rows:
        settings = saved.get(interview.slug) or InterviewSettings(deadline_days=config.deadline_days)
        for due in triggers(candidate, config, now, settings, started.get(candidate.id or 0)):
            if due.key in known:
                continue
            template = pick(variants, interview.slug, due.kind, due.channel, candidate.id or 0)
            made = _schedule(outbox, due, interview, template, questions.get(interview.id or 0, 0), config,
                             deadline(candidate, settings))
            new += made is not None
    return new


def triggers(
    candidate: Candidate, config: OutreachConfig, now: datetime, settings: InterviewSettings | None = None,
    started_at: datetime | None = None,
) -> Iterator[Due]:
    """The messages due for this candidate by `now` (scheduling them twice does nothing); pure but
    for `config.link_open`, asked only about a candidate who started and did not finish."""
    settings = settings or InterviewSettings(deadline_days=config.deadline_days)
    added, status, cid = entered(candidate), candidate.status, candidate.id
    if candidate.stage_kind in (StageKind.RESUME.value, StageKind.SMS.value):
        return  # a resume screen asks nothing of them; an SMS interview's first text is its invitation
    at = stage_key(candidate)
    sms_on = config.sms_invitations if settings.sms_invitations is None else settings.sms_invitations
    sms = sms_on and bool(e164(candidate.phone))
    channels = [c for c, ok in ((ChannelName.EMAIL, bool(candidate.email)), (ChannelName.SMS, sms))
                if ok and c in config.channels]
    ends = deadline(candidate, settings)
    if now >= ends or not channels:
        return
    unfinished = (settings.remind_unfinished and status in STARTED and started_at is not None
                  and now >= started_at + UNFINISHED_AFTER and config.link_open is not None
                  and config.link_open(cid or 0))
    for channel in channels:
        if status in NOT_STARTED and now - added <= INVITE_WINDOW:
            yield Due(candidate, MessageKind.INVITATION, channel, f"invitation:{at}{channel}:{cid}", now)
        for hours in REMINDER_HOURS if settings.remind_not_started and status in NOT_STARTED else ():
            if added + timedelta(hours=hours) <= now:
                yield Due(candidate, MessageKind.REMINDER_NOT_STARTED, channel,
                          f"reminder_not_started:{at}{hours}:{channel}:{cid}", now)
        if unfinished:
            yield Due(candidate, MessageKind.REMINDER_UNFINISHED, channel,
                      f"reminder_unfinished:{at}{channel}:{cid}", now)
        open_to_start = status in NOT_STARTED or unfinished
        if settings.remind_deadline and open_to_start and ends - DEADLINE_NOTICE <= now:
            yield Due(candidate, MessageKind.REMINDER_DEADLINE, channel,
                      f"reminder_deadline:{at}{ends:%Y%m%d}:{channel}:{cid}", now)


def values(candidate: Candidate, interview: Interview, questions: int, config: OutreachConfig,
           ends: datetime) -> dict[str, str]:
    """The template variables for one candidate."""
    return {
        "first_name": templates.first_name(candidate.name), "role": interview.role or interview.title,
        "company": config.company, "sender_name": config.sender_name,
        "link": f"{config.base_url}/i/{candidate.token}", "deadline": ends.strftime("%A %-d %B"),
        "duration": f"{max(1, questions) * MINUTES_PER_QUESTION} minutes",
    }


def _schedule(
    outbox: Outbox, due: Due, interview: Interview, template: templates.Template, questions: int,
    config: OutreachConfig, ends: datetime,
) -> int | None:
    candidate = due.candidate
    message = templates.render(template, values(candidate, interview, questions, config, ends))
    return outbox.schedule(
        candidate_id=candidate.id or 0, kind=due.kind, channel=due.channel, dedupe_key=due.key,
        recipient=candidate.email if due.channel is ChannelName.EMAIL else e164(candidate.phone),
        subject=message.subject, body_text=message.text, body_html=message.html, due_at=due.at,
        template=f"{due.kind}:{due.channel}", variant=template.variant,
    )


def _question_counts(session: Session, interview_ids: set[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    query = select(Question.interview_id).where(col(Question.interview_id).in_(interview_ids))
    for iid in session.exec(query):
        counts[iid] = counts.get(iid, 0) + 1
    return counts


def _newest_starts(session: Session, candidate_ids: list[int]) -> Mapping[int, datetime]:
    if not candidate_ids:
        return {}
    query = (select(InterviewSession.candidate_id, func.max(InterviewSession.started_at))
             .where(col(InterviewSession.candidate_id).in_(candidate_ids))
             .group_by(col(InterviewSession.candidate_id)))
    return {cid: at for cid, at in session.exec(query) if cid is not None and at is not None}
