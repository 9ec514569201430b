"""Interview sessions: one attempt, its turns and its timing events (migration 0001)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, Index, String, Text, UniqueConstraint
from sqlmodel import Field
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


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
    cpu_s: float | None = Field(default=None, sa_type=Float)
    """CPU seconds the session's speech work cost, measured (migration 0005): ASR only so far, see
    `calls.run.session_cpu_s`. None while live and for sessions that were not measured."""
    recording_dir: str = Field(sa_type=Text)
    """Folder of the crash-safe recording parts."""
    recording_path: str | None = Field(default=None, sa_type=Text)
    """The final compact recording file; None until the session ends with one."""
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The settings in force (JSON-safe values, no secrets)."""
    error: str | None = Field(default=None, sa_type=Text)
    node: str = Field(default="", sa_type=String(100), index=True)
    """The `serve` node that runs (ran) the session (MILO_NODE_NAME, migration 0014); its recovery is that
    node's job. "" for sessions from before, and for simulations."""


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
