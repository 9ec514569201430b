"""The rows the outreach funnel (`workspace/funnel.py`) is computed from, read in five queries
whatever the number of candidates: the interview versions, the cohort (candidates added since the
window's start), their sessions (each with the last question it reached, from a correlated
aggregate over its turns), their messages that reached the provider, and the question texts of the
versions where sessions were left unfinished. Sessions and messages are selected by a subquery on
the cohort, not by lists of ids, so no query grows with the cohort.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from milo_voice.store.repo import Repo
from milo_voice.store.tables import (
    Candidate,
    Interview,
    InterviewSession,
    MessageStatus,
    OutreachMessage,
    Question,
)
from milo_voice.store.tables import Turn as TurnRow
from milo_voice.workspace.funnel import (
    ENDED_UNFINISHED,
    CandidateRow,
    Funnel,
    MessageRow,
    SessionRow,
    VersionRow,
    compute,
)

REACHED = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)
"""Message statuses that count as sent: handed to the provider, which took it."""
PROMPTS = ("question", "follow_up")
"""Turn kinds that ask a question: their `question_position` is how far a session got."""


@dataclass(frozen=True, slots=True)
class FunnelRows:
    candidates: list[CandidateRow]
    sessions: list[SessionRow]
    messages: list[MessageRow]
    versions: dict[int, VersionRow]


class FunnelData(Repo):
    """The funnel's rows for one interview (every version of its slug) or all of them."""

    def rows(self, slug: str | None, since: datetime | None) -> FunnelRows:
        """Candidates added at or after `since` (None: ever), with their sessions and sent messages."""
        with self.unit() as session:
            versions = _versions(session, slug)
            cohort = select(Candidate.id)
            if slug is not None:
                cohort = cohort.where(col(Candidate.interview_id).in_(list(versions)))
            if since is not None:
                cohort = cohort.where(col(Candidate.created_at) >= since)
            ids = cohort.subquery()
            candidates = [
                CandidateRow(int(i), int(v), s or "", a, o) for i, v, s, a, o in session.exec(
                    select(Candidate.id, Candidate.interview_id, Candidate.source, Candidate.created_at,
                           Candidate.opened_at).where(col(Candidate.id).in_(sa.select(ids.c.id))))
                if i is not None
            ]
            sessions = _sessions(session, ids)
            messages = [MessageRow(*row) for row in session.exec(
                select(OutreachMessage.candidate_id, OutreachMessage.kind, OutreachMessage.channel,
                       OutreachMessage.dedupe_key, OutreachMessage.sent_at)
                .where(col(OutreachMessage.candidate_id).in_(sa.select(ids.c.id)))
                .where(col(OutreachMessage.status).in_(REACHED)))]
            _add_questions(session, versions, {s.interview_id for s in sessions
                                               if s.status in ENDED_UNFINISHED})
        return FunnelRows(candidates, sessions, messages, versions)

    def funnel(self, slug: str | None, since: datetime | None) -> Funnel:
        """`funnel.compute` over `rows`; workspace-wide (no slug) it names the interviews too."""
        found = self.rows(slug, since)
        return compute(found.candidates, found.sessions, found.messages, found.versions,
                       across=slug is None)


def _versions(session: Session, slug: str | None) -> dict[int, VersionRow]:
    query = select(Interview.id, Interview.slug, Interview.title, Interview.version)
    if slug is not None:
        query = query.where(Interview.slug == slug)
    return {int(i): VersionRow(int(i), s, t, v) for i, s, t, v in session.exec(query) if i is not None}


def _sessions(session: Session, cohort: Any) -> list[SessionRow]:
    last_question = (
        sa.select(sa.func.max(col(TurnRow.question_position)))
        .where(col(TurnRow.session_id) == col(InterviewSession.id))
        .where(col(TurnRow.kind).in_(PROMPTS))
        .correlate(InterviewSession)  # type: ignore[arg-type]
        .scalar_subquery()
    )
    query = (
        sa.select(col(InterviewSession.id), col(InterviewSession.candidate_id),
                  col(InterviewSession.interview_id), col(InterviewSession.channel),
                  col(InterviewSession.status), col(InterviewSession.started_at),
                  col(InterviewSession.ended_at), last_question)
        .where(col(InterviewSession.candidate_id).in_(sa.select(cohort.c.id)))
    )
    return [SessionRow(int(i), c, v, ch, st, sa_, ea, None if q is None else int(q))
            for i, c, v, ch, st, sa_, ea, q in session.execute(query)]


def _add_questions(session: Session, versions: dict[int, VersionRow], interview_ids: set[int]) -> None:
    """Fill in the question texts of `interview_ids` (the versions drop-off has to name)."""
    if not interview_ids:
        return
    texts: dict[int, dict[int, str]] = {}
    found = session.exec(select(Question.interview_id, Question.position, Question.text)
                         .where(col(Question.interview_id).in_(sorted(interview_ids))))
    for interview_id, position, text in found:
        texts.setdefault(int(interview_id), {})[int(position)] = str(text)
    for interview_id, questions in texts.items():
        if interview_id in versions:
            v = versions[interview_id]
            versions[interview_id] = VersionRow(v.id, v.slug, v.title, v.version, questions)
