"""Reading one interview session's rows in their order: the turns and the timing events; and which
of a candidate's sessions counts.

Several rooms read them (the call's writer, scoring, the workspace's review); they share these
queries so the order a transcript is read in, and the session a candidate is judged by, are
defined once. Reads only: the one writer of these tables is `calls/session_store.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from milo_voice.store.tables import InterviewSession, SessionStatus, TimingEvent, Turn


def session_turns(session: Session, session_id: int) -> list[Turn]:
    """The session's turns by index (its transcript order)."""
    return list(session.exec(select(Turn).where(Turn.session_id == session_id).order_by(col(Turn.index))))


def session_events(session: Session, session_id: int) -> list[TimingEvent]:
    """The session's timing events in the order they were added."""
    query = select(TimingEvent).where(TimingEvent.session_id == session_id).order_by(col(TimingEvent.id))
    return list(session.exec(query))


def counted(sessions: Sequence[InterviewSession], marked: int | None) -> InterviewSession | None:
    """The session that counts for a candidate: the one a recruiter marked, else the newest
    completed one, else the newest (None without sessions)."""
    if not sessions:
        return None
    chosen = next((s for s in sessions if marked is not None and s.id == marked), None)
    if chosen is not None:
        return chosen
    newest_first = sorted(sessions, key=lambda s: s.id or 0, reverse=True)
    done = next((s for s in newest_first if s.status == SessionStatus.COMPLETED), None)
    return done if done is not None else newest_first[0]


def counted_session(session: Session, candidate_id: int, marked: int | None) -> InterviewSession | None:
    """`counted` over the candidate's sessions, inside the caller's transaction."""
    own = session.exec(select(InterviewSession).where(InterviewSession.candidate_id == candidate_id))
    return counted(list(own), marked)
