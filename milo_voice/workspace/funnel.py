"""The outreach funnel (issue 16): of the candidates added in a period, how many opened their link,
started and completed, by source and by outreach channel; which message last came before each
completion; how long completion took; where interviews were left. Pure computation over plain
rows, which `FunnelData` reads in four queries (none per candidate).

Definitions (decided here; the CSV and the charts use them):
- The cohort is the candidates **added** in the period (the analytics pages' `?days=` window, or
  all time): "invited" counts them all, whether a message reached them or not (a share-link
  applicant added themselves).
- **opened**: their link showed the interview page (`candidate.opened_at`), or they started (a
  phone candidate may never open the link).
- **started**: at least one session. **completed**: at least one session with status completed
  (the same as the workspace funnel and the variant rates; a recruiter's decision does not change it).
- **source**: how they were added (`CandidateSource`); "unknown" for candidates added before it
  was recorded.
- **outreach channel**: the channels on which at least one message was handed to the provider
  (status sent or delivered): "email", "sms", "email + sms", or "none".
- **interview channel**: the channel of the candidate's first session (browser or phone); the
  completion rate there is over those who started on it.
- **completed after**: each completion is attributed to the last message sent to the candidate
  before their first completed session started (its kind; the not-started reminders split by
  their 24 h / 48 h key), or "no message" when none came before.
- **time to complete**: hours from being added to the end of the first completed session
  (median and 90th percentile).
- **drop-off**: every session that ended without completing (interrupted or failed; live ones
  are left out), by the last question it reached (the highest `question_position` of its turns);
  a session with no question turn stopped "before the first question".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlmodel import col, func, select

from milo_voice.store.repo import Repo
from milo_voice.store.tables import (
    Candidate,
    Interview,
    InterviewSession,
    MessageStatus,
    OutreachMessage,
    Question,
    SessionStatus,
    Turn,
)

SENT = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)
ENDED_UNFINISHED = (SessionStatus.INTERRUPTED.value, SessionStatus.FAILED.value)
MESSAGE_LABELS = {
    "invitation": "Invitation", "reminder_not_started:24": "Reminder after 24 h",
    "reminder_not_started:48": "Reminder after 48 h", "reminder_unfinished": "Reminder to finish",
    "reminder_deadline": "Deadline reminder", "nudge": "Nudge", "": "No message",
}
"""The order and names of "completed after" rows."""
CHANNEL_LABELS = {"webrtc": "browser", "phone": "phone", "simulate": "simulated"}
SOURCE_LABELS = {"manual": "Added by hand", "bulk": "Bulk", "api": "API", "share_link": "Share link",
                 "ats": "ATS", "unknown": "Unknown"}


@dataclass(frozen=True, slots=True)
class CandidateRow:
    id: int
    source: str
    added: datetime
    opened_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    candidate_id: int
    channel: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    last_question: int | None
    """Highest question position its turns reached (None: none)."""


@dataclass(frozen=True, slots=True)
class MessageRow:
    candidate_id: int
    kind: str
    channel: str
    dedupe_key: str
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Stages:
    label: str
    invited: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.invited if self.invited else None

    def as_dict(self) -> dict[str, int]:
        return {"invited": self.invited, "opened": self.opened, "started": self.started,
                "completed": self.completed}


@dataclass(frozen=True, slots=True)
class Rate:
    label: str
    started: int
    completed: int

    @property
    def rate(self) -> float | None:
        return self.completed / self.started if self.started else None


@dataclass(frozen=True, slots=True)
class DropOff:
    position: int | None
    """Question position (0-based), None: before the first question."""
    question: str
    sessions: int


@dataclass(frozen=True, slots=True)
class Funnel:
    total: Stages
    by_source: list[Stages] = field(default_factory=list)
    by_channel: list[Stages] = field(default_factory=list)
    interview_channels: list[Rate] = field(default_factory=list)
    completed_after: list[tuple[str, int]] = field(default_factory=list)
    median_hours: float | None = None
    p90_hours: float | None = None
    drop_off: list[DropOff] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.total.invited == 0


def compute(
    candidates: Sequence[CandidateRow], sessions: Sequence[SessionRow], messages: Sequence[MessageRow],
    questions: Mapping[int, str] | None = None,
) -> Funnel:
    """The funnel of `candidates` (the cohort); sessions and messages of other candidates are ignored."""
    ids = {c.id for c in candidates}
    own = [s for s in sessions if s.candidate_id in ids]
    sent = [m for m in messages if m.candidate_id in ids and m.sent_at is not None]
    by_candidate: dict[int, list[SessionRow]] = {}
    for s in sorted(own, key=lambda s: s.started_at):
        by_candidate.setdefault(s.candidate_id, []).append(s)
    channels: dict[int, set[str]] = {}
    sent_to: dict[int, list[MessageRow]] = {}
    for m in sent:
        channels.setdefault(m.candidate_id, set()).add(m.channel)
        sent_to.setdefault(m.candidate_id, []).append(m)

    def stage_of(c: CandidateRow) -> tuple[bool, bool, bool]:
        mine = by_candidate.get(c.id, [])
        started = bool(mine)
        completed = any(s.status == SessionStatus.COMPLETED.value for s in mine)
        return c.opened_at is not None or started, started, completed

    stages = {c.id: stage_of(c) for c in candidates}

    def group(label: str, members: Iterable[CandidateRow]) -> Stages:
        flags = [stages[c.id] for c in members]
        return Stages(label, len(flags), sum(f[0] for f in flags), sum(f[1] for f in flags),
                      sum(f[2] for f in flags))

    sources = Counter(c.source or "unknown" for c in candidates)
    by_source = [group(SOURCE_LABELS.get(s, s), [c for c in candidates if (c.source or "unknown") == s])
                 for s in sorted(sources, key=lambda s: -sources[s])]
    reach = {c.id: _reach(channels.get(c.id, set())) for c in candidates}
    by_channel = [group(name, [c for c in candidates if reach[c.id] == name])
                  for name in ("email", "sms", "email + sms", "none") if name in reach.values()]
    first_channel = Counter(mine[0].channel for mine in by_candidate.values())
    interview_channels = [
        Rate(CHANNEL_LABELS.get(name, name), first_channel[name],
             sum(1 for mine in by_candidate.values() if mine[0].channel == name
                 and any(s.status == SessionStatus.COMPLETED.value for s in mine)))
        for name in sorted(first_channel, key=lambda n: CHANNEL_LABELS.get(n, n))]
    after: Counter[str] = Counter()
    hours: list[float] = []
    added = {c.id: c.added for c in candidates}
    for cid, mine in by_candidate.items():
        done = next((s for s in mine if s.status == SessionStatus.COMPLETED.value), None)
        if done is None:
            continue
        before = [m for m in sent_to.get(cid, []) if m.sent_at is not None and m.sent_at <= done.started_at]
        last = max(before, key=lambda m: m.sent_at or done.started_at, default=None)
        after[_message_key(last)] += 1
        hours.append(max(0.0, ((done.ended_at or done.started_at) - added[cid]).total_seconds() / 3600))
    completed_after = [(label, after[key]) for key, label in MESSAGE_LABELS.items() if after[key]]
    return Funnel(group("All candidates", candidates), by_source, by_channel, interview_channels,
                  completed_after, median(hours) if hours else None, _p90(hours),
                  _drop_off(own, questions or {}))


def _reach(channels: set[str]) -> str:
    if {"email", "sms"} <= channels:
        return "email + sms"
    return next(iter(channels)) if channels else "none"


def _message_key(message: MessageRow | None) -> str:
    if message is None:
        return ""
    if message.kind == "reminder_not_started":
        hours = message.dedupe_key.split(":")[1] if message.dedupe_key.count(":") >= 2 else "24"
        return f"reminder_not_started:{hours}" if hours in ("24", "48") else "reminder_not_started:24"
    return message.kind


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def _drop_off(sessions: Sequence[SessionRow], questions: Mapping[int, str]) -> list[DropOff]:
    stopped = Counter(s.last_question for s in sessions if s.status in ENDED_UNFINISHED)
    order = sorted(stopped, key=lambda p: -1 if p is None else p)
    return [DropOff(p, "before the first question" if p is None else questions.get(p, f"Question {p + 1}"),
                    stopped[p]) for p in order]


class FunnelData(Repo):
    """The rows `compute` needs, for one interview (every version of its slug) or all of them."""

    def rows(self, slug: str | None, since: datetime | None) -> tuple[
            list[CandidateRow], list[SessionRow], list[MessageRow], dict[int, str]]:
        with self.unit() as session:
            query = select(Candidate.id, Candidate.source, Candidate.created_at, Candidate.opened_at)
            questions: dict[int, str] = {}
            if slug is not None:
                versions = session.exec(select(Interview.id).where(Interview.slug == slug)
                                        .order_by(col(Interview.version).desc())).all()
                query = query.where(col(Candidate.interview_id).in_(versions))
                if versions:
                    texts = session.exec(select(Question.position, Question.text)
                                         .where(Question.interview_id == versions[0])).all()
                    questions = {int(p): str(t) for p, t in texts}
            if since is not None:
                query = query.where(col(Candidate.created_at) >= since)
            candidates = [CandidateRow(int(i), s or "", a, o) for i, s, a, o in session.exec(query)
                          if i is not None]
            ids = [c.id for c in candidates]
            last_question = (select(Turn.session_id, func.max(Turn.question_position).label("q"))
                             .where(col(Turn.kind).in_(("question", "follow_up")))
                             .group_by(col(Turn.session_id)).subquery())
            sessions: list[SessionRow] = []
            messages: list[MessageRow] = []
            for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
                chunk = ids[start:start + 500]
                found = session.exec(
                    select(InterviewSession.id, InterviewSession.candidate_id, InterviewSession.channel,
                           InterviewSession.status, InterviewSession.started_at, InterviewSession.ended_at,
                           last_question.c.q)
                    .outerjoin(last_question, last_question.c.session_id == col(InterviewSession.id))
                    .where(col(InterviewSession.candidate_id).in_(chunk)))
                sessions += [SessionRow(int(i or 0), c, ch, st, sa, ea, None if q is None else int(q))
                             for i, c, ch, st, sa, ea, q in found]
                sent = session.exec(
                    select(OutreachMessage.candidate_id, OutreachMessage.kind, OutreachMessage.channel,
                           OutreachMessage.dedupe_key, OutreachMessage.sent_at)
                    .where(col(OutreachMessage.candidate_id).in_(chunk))
                    .where(col(OutreachMessage.status).in_(SENT)))
                messages += [MessageRow(*row) for row in sent]
        return candidates, sessions, messages, questions
