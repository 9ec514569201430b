"""Interviews, their scripted questions and their stages (migration 0001; editor fields 0004, rubrics
0003, stages 0010)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, String, Text, UniqueConstraint
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


class InterviewStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class StageKind(StrEnum):
    """The types of interview stage (issue 18); `voice` is the interview the questions below make."""

    RESUME = "resume"
    FORM = "form"
    SMS = "sms"
    VOICE = "voice"
    ASSESSMENT = "assessment"


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
    # Workspace editor fields (issue 5, migration 0004)
    logo: str = Field(default="", sa_type=Text)
    """The interview's logo as a `data:image/...;base64,` URL (small: the editor caps it), or empty."""
    language: str = Field(default="en", sa_type=String(20))
    """BCP 47 language tag of the interview (e.g. en, en-GB, de)."""
    voice: str = Field(default="", sa_type=String(100))
    """TTS voice name; empty means the server's default voice."""
    thinking_silence: float | None = Field(default=None, sa_type=Float)
    """Patience (s) before the candidate starts answering; None means the server's setting."""
    max_silence: float | None = Field(default=None, sa_type=Float)
    """Patience (s) for a pause inside an answer; None means the server's setting."""
    archived: bool = False
    """Hidden from the active list; kept on every version of the slug so candidates keep their links."""
    is_template: bool = False
    retakes_allowed: int = 0
    """Retakes every candidate may take without asking (issue 14, migration 0005); 0: one attempt."""
    """Offered as a starting point for new interviews."""


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
    # Rubric scoring (issue 6, migration 0003)
    rubric: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    """A `milo_voice.scoring.rubric.QuestionRubric` as JSON (with its own version); None: not scored."""


class InterviewStage(Table, table=True):
    """One stage of one interview version, at `position` (0-based; migration 0010). An interview with
    no stage rows is one voice stage (every interview made before stages existed)."""

    __tablename__ = "interview_stage"
    __table_args__ = (UniqueConstraint("interview_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", ondelete="CASCADE")
    position: int
    kind: str = Field(sa_type=String(20))
    """A `StageKind` value."""
    spec: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """A `milo_voice.stages.types.StageSpec` as JSON."""
