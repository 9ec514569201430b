"""Reading one interview session's rows in their order: the turns and the timing events.

Several rooms read them (the call's writer, scoring, the workspace's review); they share these
queries so the order a transcript is read in is defined once. Reads only: the one writer of
these tables is `calls/session_store.py`.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from milo_voice.store.tables import TimingEvent, Turn


def session_turns(session: Session, session_id: int) -> list[Turn]:
    """The session's turns by index (its transcript order)."""
    return list(session.exec(select(Turn).where(Turn.session_id == session_id).order_by(col(Turn.index))))


def session_events(session: Session, session_id: int) -> list[TimingEvent]:
    """The session's timing events in the order they were added."""
    query = select(TimingEvent).where(TimingEvent.session_id == session_id).order_by(col(TimingEvent.id))
    return list(session.exec(query))
