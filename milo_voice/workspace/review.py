"""What a reviewer reads about one candidate: their sessions, the transcript as timed lines grouped
per question, and the rows analytics are computed from.

Transcript lines carry offsets into the session's recording, which is what lets the profile page
keep the player and the transcript in sync. The stored (whole-answer) transcript is preferred;
the live text stands in while the background decode has not finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from milo_voice.store.repo import NotFound, Repo
from milo_voice.store.session_rows import session_events, session_turns
from milo_voice.store.tables import Candidate, Interview, InterviewSession, Speaker, TimingEvent, Turn
from milo_voice.store.tables import Question as QuestionRow


@dataclass(frozen=True, slots=True)
class Line:
    index: int
    speaker: str
    start: float
    end: float
    text: str
    kind: str


@dataclass(slots=True)
class Section:
    """The lines about one question (the question, the answer and any follow-ups), or the opening/closing."""

    title: str
    lines: list[Line] = field(default_factory=list)

    @property
    def answer_words(self) -> int:
        return sum(len(line.text.split()) for line in self.lines if line.speaker == Speaker.CANDIDATE.value)


def lines_of(turns: list[Turn]) -> list[Line]:
    return [
        Line(
            t.index,
            t.speaker,
            round(t.start_s, 2),
            round(t.end_s, 2),
            (t.text or t.live_text).strip(),
            t.kind,
        )
        for t in sorted(turns, key=lambda t: t.index)
    ]


def sections(turns: list[Turn], questions: list[QuestionRow]) -> list[Section]:
    """Group turns: the welcome, one section per question in order, then the closing."""
    opening, closing = Section("Welcome"), Section("Closing")
    per_question: dict[int, Section] = {}
    for turn, line in zip(sorted(turns, key=lambda t: t.index), lines_of(turns), strict=True):
        if turn.kind == "greeting":
            opening.lines.append(line)
        elif turn.kind == "closing":
            closing.lines.append(line)
        else:
            position = turn.question_position
            if questions and position >= len(questions):  # the acknowledgement after the last answer
                position = len(questions) - 1
            if position not in per_question:
                text = next((q.text for q in questions if q.position == position), "")
                per_question[position] = Section(
                    f"Question {position + 1}: {text}" if text else f"Question {position + 1}"
                )
            per_question[position].lines.append(line)
    ordered = [per_question[p] for p in sorted(per_question)]
    return [s for s in (opening, *ordered, closing) if s.lines]


class Review(Repo):
    def sessions(self, candidate_id: int) -> list[InterviewSession]:
        """A candidate's sessions, newest first."""
        with self.unit() as session:
            return list(
                session.exec(
                    select(InterviewSession)
                    .where(InterviewSession.candidate_id == candidate_id)
                    .order_by(col(InterviewSession.id).desc())
                )
            )

    def session(self, session_id: int) -> InterviewSession:
        with self.unit() as session:
            row = session.get(InterviewSession, session_id)
        if row is None:
            raise NotFound(f"session {session_id} does not exist")
        return row

    def turns(self, session_id: int) -> list[Turn]:
        with self.unit() as session:
            return session_turns(session, session_id)

    def events(self, session_id: int) -> list[TimingEvent]:
        with self.unit() as session:
            return session_events(session, session_id)

    def funnel_rows(self, slug: str) -> tuple[list[Candidate], list[InterviewSession]]:
        """Every candidate of every version of `slug`, and their sessions."""
        with self.unit() as session:
            found = session.exec(select(Interview.id).where(Interview.slug == slug))
            ids = [i for i in found if i is not None]
            candidates = list(session.exec(select(Candidate).where(col(Candidate.interview_id).in_(ids))))
            sessions = list(
                session.exec(select(InterviewSession).where(col(InterviewSession.interview_id).in_(ids)))
            )
        return candidates, sessions

    def workspace_rows(self, since: datetime) -> tuple[list[Candidate], list[InterviewSession]]:
        """Candidates added and sessions started at or after `since`, across every interview
        (archived ones and every version included)."""
        with self.unit() as session:
            candidates = list(session.exec(select(Candidate).where(col(Candidate.created_at) >= since)))
            sessions = list(
                session.exec(select(InterviewSession).where(col(InterviewSession.started_at) >= since))
            )
        return candidates, sessions
