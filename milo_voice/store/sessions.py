"""Queries and units of work over the milo_voice tables: each method is one short, blocking transaction.

Callers on the event loop run methods in a thread (`run_in_threadpool`). Methods return plain values
or detached rows, never a live `Session`. No schema lives here (see `models.py`, migrations).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from milo_voice.dialogue.events import TimedEvent
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question, demo_script
from milo_voice.store.db import unit_of_work
from milo_voice.store.tables import (
    Candidate,
    CandidateStatus,
    Channel,
    Interview,
    InterviewSession,
    InterviewStatus,
    SessionStatus,
    Speaker,
    TimingEvent,
    Turn,
    Word,
    utc_now,
)
from milo_voice.store.tables import Question as QuestionRow

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
"""Random bytes in a candidate token (256 bits; 43 URL-safe characters). The token is the only secret
in a candidate's link, so it must be unguessable; 128 bits is the floor."""

DEMO_SLUG = "demo"
DEMO_CANDIDATE = "Demo Candidate"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class Store:
    """All reads and writes of interviews, candidates and sessions, over one Engine."""

    def __init__(self, engine: Engine, *, now: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.now = now
        """Clock for timestamps (timezone-aware UTC); injected so tests can pin it."""

    @contextmanager
    def _unit(self) -> Iterator[Session]:
        with unit_of_work(self.engine) as session:
            yield session

    # Interviews and candidates

    def create_interview(
        self, script: InterviewScript, *, slug: str, status: str = InterviewStatus.PUBLISHED
    ) -> int:
        """Store `script` as version `script.version` of `slug`; a taken (slug, version): IntegrityError."""
        with self._unit() as session:
            return self._add_interview(session, script, slug=slug, status=InterviewStatus(status))

    def _add_interview(
        self, session: Session, script: InterviewScript, *, slug: str, status: InterviewStatus
    ) -> int:
        interview_id = _insert(
            session,
            Interview(
                slug=slug,
                version=script.version,
                title=script.title,
                role=script.role,
                greeting=script.greeting,
                closing=script.closing,
                status=status.value,
                created_at=self.now(),
            ),
        )
        session.add_all(
            QuestionRow(
                interview_id=interview_id,
                position=position,
                text=q.text,
                shape=q.shape.value,
                follow_ups=list(q.follow_ups),
                max_follow_ups=q.max_follow_ups,
                wants_example=q.wants_example,
            )
            for position, q in enumerate(script.questions)
        )
        return interview_id

    def script_for(self, interview_id: int) -> InterviewScript:
        """The interview as the dialogue runs it; `key` is "<slug>-v<version>". Unknown id: LookupError."""
        with self._unit() as session:
            interview = _get(session, Interview, interview_id)
            rows = session.exec(
                select(QuestionRow)
                .where(QuestionRow.interview_id == interview_id)
                .order_by(col(QuestionRow.position))
            ).all()
        questions = tuple(
            Question(r.text, AnswerShape(r.shape), tuple(r.follow_ups), r.max_follow_ups, r.wants_example)
            for r in rows
        )
        return InterviewScript(
            title=interview.title,
            questions=questions,
            greeting=interview.greeting,
            closing=interview.closing,
            role=interview.role,
            version=interview.version,
            key=f"{interview.slug}-v{interview.version}",
            thinking_silence=interview.thinking_silence,
            max_silence=interview.max_silence,
        )

    def add_candidate(self, *, interview_id: int, name: str, email: str = "", phone: str = "") -> Candidate:
        """A new candidate for `interview_id`, with a fresh unguessable token."""
        with self._unit() as session:
            return self._add_candidate(
                session, interview_id=interview_id, name=name, email=email, phone=phone
            )

    def _add_candidate(
        self, session: Session, *, interview_id: int, name: str, email: str, phone: str
    ) -> Candidate:
        candidate = Candidate(
            interview_id=interview_id,
            name=name,
            email=email,
            phone=phone,
            token=new_token(),
            status=CandidateStatus.NEW.value,
            created_at=self.now(),
        )
        _insert(session, candidate)
        return candidate

    def candidate_by_token(self, token: str) -> Candidate | None:
        with self._unit() as session:
            return session.exec(select(Candidate).where(Candidate.token == token)).first()

    def seed_demo(self) -> tuple[int, Candidate]:
        """The demo interview (slug "demo") and its first candidate, created on the first call only."""
        try:
            return self._seed_demo()
        except IntegrityError:  # another process seeded between our read and our insert; theirs stands
            log.info("store.seed_demo_raced")
            return self._seed_demo()

    def _seed_demo(self) -> tuple[int, Candidate]:
        with self._unit() as session:
            interview_id = session.exec(
                select(Interview.id).where(Interview.slug == DEMO_SLUG).order_by(col(Interview.version))
            ).first()
            if interview_id is None:
                interview_id = self._add_interview(
                    session, demo_script(), slug=DEMO_SLUG, status=InterviewStatus.PUBLISHED
                )
            candidate = session.exec(
                select(Candidate).where(Candidate.interview_id == interview_id).order_by(col(Candidate.id))
            ).first()
            if candidate is None:
                candidate = self._add_candidate(
                    session, interview_id=interview_id, name=DEMO_CANDIDATE, email="", phone=""
                )
            return interview_id, candidate

    # Sessions

    def start_session(
        self,
        *,
        candidate_id: int,
        interview_id: int,
        channel: str,
        recording_dir: str,
        settings: dict[str, Any],
    ) -> int:
        """A new live session; the candidate becomes in_progress. `settings` must be JSON-safe."""
        with self._unit() as session:
            candidate = _get(session, Candidate, candidate_id)
            candidate.status = CandidateStatus.IN_PROGRESS.value
            return _insert(
                session,
                InterviewSession(
                    candidate_id=candidate_id,
                    interview_id=interview_id,
                    channel=Channel(channel).value,
                    status=SessionStatus.LIVE.value,
                    started_at=self.now(),
                    recording_dir=recording_dir,
                    settings=dict(settings),
                ),
            )

    def end_session(
        self,
        *,
        session_id: int,
        status: str,
        duration_s: float | None,
        recording_path: str | None,
        error: str | None = None,
    ) -> None:
        """Close a session; a completed one marks its candidate completed."""
        final = SessionStatus(status)
        with self._unit() as session:
            row = _get(session, InterviewSession, session_id)
            row.status = final.value
            row.ended_at = self.now()
            row.duration_s = duration_s
            row.recording_path = recording_path
            row.error = error
            if final is SessionStatus.COMPLETED:
                _get(session, Candidate, row.candidate_id).status = CandidateStatus.COMPLETED.value

    def get_session(self, session_id: int) -> InterviewSession | None:
        with self._unit() as session:
            return session.get(InterviewSession, session_id)

    def session_ids_with_status(self, status: str) -> list[int]:
        """Ids of sessions in `status`, oldest first (e.g. "live" ones left behind by a crash)."""
        wanted = SessionStatus(status)
        with self._unit() as session:
            ids = session.exec(
                select(InterviewSession.id)
                .where(InterviewSession.status == wanted.value)
                .order_by(col(InterviewSession.id))
            ).all()
        return [i for i in ids if i is not None]

    # Turns and timing events

    def add_turn(
        self,
        *,
        session_id: int,
        index: int,
        speaker: str,
        text: str,
        start_s: float,
        end_s: float,
        question_position: int,
        is_follow_up: bool,
        kind: str,
        live_text: str = "",
        words: Sequence[Word] | None = None,
        source: str = "",
    ) -> int:
        """Store one turn; `index` is unique within the session."""
        with self._unit() as session:
            turn = Turn(
                session_id=session_id,
                index=index,
                speaker=Speaker(speaker).value,
                text=text,
                live_text=live_text,
                start_s=start_s,
                end_s=end_s,
                question_position=question_position,
                is_follow_up=is_follow_up,
                kind=kind,
                words=list(words or ()),
                source=source,
            )
            return _insert(session, turn)

    def update_turn_text(self, *, turn_id: int, text: str, words: Sequence[Word]) -> None:
        """Replace a turn's stored transcript (the background whole-answer decode)."""
        with self._unit() as session:
            turn = _get(session, Turn, turn_id)
            turn.text = text
            turn.words = list(words)

    def add_events(self, session_id: int, events: Sequence[TimedEvent]) -> None:
        """Insert a batch of timing events in one statement."""
        if not events:
            return
        rows = [
            {
                "session_id": session_id,
                "turn_index": e.turn_index,
                "name": e.name,
                "media_time": e.media_time,
                "mono": e.mono,
                "data": dict(e.data),
            }
            for e in events
        ]
        with self._unit() as session:
            session.execute(insert(TimingEvent), rows)

    def turns(self, session_id: int) -> list[Turn]:
        with self._unit() as session:
            return list(
                session.exec(select(Turn).where(Turn.session_id == session_id).order_by(col(Turn.index)))
            )

    def events(self, session_id: int) -> list[TimingEvent]:
        """A session's timing events in the order they were added."""
        with self._unit() as session:
            return list(
                session.exec(
                    select(TimingEvent)
                    .where(TimingEvent.session_id == session_id)
                    .order_by(col(TimingEvent.id))
                )
            )

    # Browser channel (issue 3)

    def published_interview_id(self, slug: str) -> int | None:
        """The newest published version of the interview `slug` (its public share link), or None."""
        with self._unit() as session:
            return session.exec(
                select(Interview.id)
                .where(Interview.slug == slug, Interview.status == InterviewStatus.PUBLISHED.value)
                .order_by(col(Interview.version).desc())
            ).first()


def _insert(session: Session, row: Interview | Candidate | InterviewSession | Turn) -> int:
    """Add `row` and flush it, so the database assigns its id."""
    session.add(row)
    session.flush()
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} got no id on flush")
    return row.id


_Row = TypeVar("_Row", Interview, Candidate, InterviewSession, Turn)


def _get(session: Session, table: type[_Row], row_id: int) -> _Row:
    row = session.get(table, row_id)
    if row is None:
        raise LookupError(f"{table.__tablename__} {row_id} does not exist")
    return row
