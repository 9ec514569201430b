"""Database tables as SQLModel classes: columns, keys and indexes only, no queries or sessions.

Every change here needs a migration in `milo_voice/migrations/versions/`; `tests/test_migrations.py`
fails when the tables and the migrated schema disagree. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Float, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, identical on SQLite and PostgreSQL, so migrations can name them."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out timezone-aware UTC, also on SQLite (which drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}; expected a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class InterviewStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class CandidateStatus(StrEnum):
    NEW = "new"
    INVITED = "invited"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SHORTLISTED = "shortlisted"
    DISMISSED = "dismissed"


class Channel(StrEnum):
    SIMULATE = "simulate"
    WEBRTC = "webrtc"
    PHONE = "phone"


class SessionStatus(StrEnum):
    LIVE = "live"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


class Speaker(StrEnum):
    CANDIDATE = "candidate"
    INTERVIEWER = "interviewer"


class Word(TypedDict):
    """One recognised word with its offsets in the recording (seconds)."""

    w: str
    start: float
    end: float


class Table(SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))):
    """Base of every milo_voice table: its own metadata, with the naming convention above."""


class Interview(Table, table=True):
    """One version of an interview. Editing a published interview adds a row: same slug, version + 1."""

    __tablename__ = "interview"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(100))
    version: int = 1
    title: str = Field(sa_type=String(300))
    role: str = Field(default="", sa_type=String(200))
    greeting: str = Field(sa_type=Text)
    closing: str = Field(sa_type=Text)
    status: str = Field(default=InterviewStatus.DRAFT.value, sa_type=String(20))
    """An `InterviewStatus` value."""
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Question(Table, table=True):
    """One scripted question of one interview version, at `position` (0-based)."""

    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("interview_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", ondelete="CASCADE")
    position: int
    text: str = Field(sa_type=Text)
    shape: str = Field(sa_type=String(20))
    """An `AnswerShape` value."""
    follow_ups: list[str] = Field(default_factory=list, sa_type=JSON)
    max_follow_ups: int = 1
    wants_example: bool = False


class Candidate(Table, table=True):
    """A person invited to one interview; `token` is the secret in their personal link."""

    __tablename__ = "candidate"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    name: str = Field(sa_type=String(200))
    email: str = Field(default="", sa_type=String(320))
    phone: str = Field(default="", sa_type=String(40))
    token: str = Field(sa_type=String(64), unique=True, repr=False)
    status: str = Field(default=CandidateStatus.NEW.value, sa_type=String(20))
    """A `CandidateStatus` value."""
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class InterviewSession(Table, table=True):
    """One interview attempt: which version was taken, over which channel, and where it was recorded."""

    __tablename__ = "interview_session"

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    channel: str = Field(sa_type=String(20))
    """A `Channel` value."""
    status: str = Field(default=SessionStatus.LIVE.value, sa_type=String(20), index=True)
    """A `SessionStatus` value."""
    started_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_s: float | None = Field(default=None, sa_type=Float)
    """Length of the recording (s); None while live."""
    recording_dir: str = Field(sa_type=Text)
    """Folder of the crash-safe recording parts."""
    recording_path: str | None = Field(default=None, sa_type=Text)
    """The final compact recording file; None until the session ends with one."""
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The settings in force (JSON-safe values, no secrets)."""
    error: str | None = Field(default=None, sa_type=Text)


class Turn(Table, table=True):
    """One utterance in a session, with its offsets in the recording (s)."""

    __tablename__ = "turn"
    __table_args__ = (UniqueConstraint("session_id", "index"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="interview_session.id", ondelete="CASCADE")
    index: int
    """Order within the session, from 0."""
    speaker: str = Field(sa_type=String(20))
    """A `Speaker` value."""
    text: str = Field(default="", sa_type=Text)
    """Stored transcript (the whole-answer decode for candidate turns)."""
    live_text: str = Field(default="", sa_type=Text)
    """Live transcript the turn policy saw (candidate turns only)."""
    start_s: float = Field(sa_type=Float)
    end_s: float = Field(sa_type=Float)
    question_position: int
    is_follow_up: bool = False
    kind: str = Field(sa_type=String(20))
    """greeting, question, follow_up, closing, answer, ..."""
    words: list[Word] = Field(default_factory=list, sa_type=JSON)
    source: str = Field(default="", sa_type=String(50))
    """Planner that produced an interviewer turn."""


class TimingEvent(Table, table=True):
    """A persisted `TimedEvent`: one latency-relevant step of a session."""

    __tablename__ = "timing_event"
    __table_args__ = (Index(None, "session_id", "turn_index"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="interview_session.id", ondelete="CASCADE")
    turn_index: int
    """Turn it belongs to; -1 for the session as a whole."""
    name: str = Field(sa_type=String(50))
    media_time: float = Field(sa_type=Float)
    """Seconds since the call started, on the recording's timeline."""
    mono: float = Field(sa_type=Float)
    """time.monotonic() when it happened (only comparable within one process)."""
    data: dict[str, float | int | str] = Field(default_factory=dict, sa_type=JSON)
