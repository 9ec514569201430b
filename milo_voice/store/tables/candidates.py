"""Candidates, the notes and ratings the team keeps on them, and their results stage by stage
(migrations 0001, 0004 and 0010)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


class CandidateStatus(StrEnum):
    NEW = "new"
    INVITED = "invited"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SHORTLISTED = "shortlisted"
    DISMISSED = "dismissed"
    EVALUATING = "evaluating"
    """Scoring (issue 6) runs in the background after the session ended."""
    KNOCKED_OUT = "knocked_out"
    """A dealbreaker answer failed (issue 6): the candidate does not advance."""
    ENDED_EARLY = "ended_early"
    """The session ended before the interview did (the candidate ended it, or the call dropped
    for longer than the resume window); the link is closed unless a retake is allowed."""


class CandidateSource(StrEnum):
    """How a candidate was added (the funnel's "by source")."""

    MANUAL = "manual"
    BULK = "bulk"
    API = "api"
    SHARE_LINK = "share_link"
    ATS = "ats"


class Candidate(Table, table=True):
    """A person invited to one interview; `token` is the secret in their personal link."""

    __tablename__ = "candidate"
    __table_args__ = (
        Index("ix_candidate_interview_id_external_id", "interview_id", "external_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    name: str = Field(sa_type=String(200))
    email: str = Field(default="", sa_type=String(320))
    phone: str = Field(default="", sa_type=String(40))
    token: str = Field(sa_type=String(64), unique=True, repr=False)
    status: str = Field(default=CandidateStatus.NEW.value, sa_type=String(20))
    """A `CandidateStatus` value."""
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # Attempt rules (issue 14, migration 0005)
    retakes_granted: int = 0
    """Retakes a recruiter granted this candidate, on top of the interview's `retakes_allowed`."""
    counted_session_id: int | None = Field(default=None, sa_type=Integer)
    """The session a recruiter marked as the one that counts; None: the newest completed one."""
    # Outreach (issue 16, migration 0008)
    source: str = Field(default="", sa_type=String(20))
    """How the candidate came in: `CandidateSource` value ("" for candidates added before 0008)."""
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """This candidate's own deadline (a recruiter's override or extension); None: the interview's."""
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the candidate first opened their link (the funnel's "opened")."""
    # Intake (issue 17, migration 0009)
    external_id: str | None = Field(default=None, sa_type=String(200))
    """The id another system knows the candidate by (ATS application, API caller's id); adding the same
    external id to the same interview again updates this candidate instead of adding another."""
    location: str = Field(default="", sa_type=String(200))
    """Where the candidate is, as given (resume contact block, CSV column, API)."""
    # Stages (issue 18, migration 0010)
    stage_position: int = 0
    """The stage the candidate is at (0-based position in their interview version's stages)."""
    stage_kind: str = Field(default="", sa_type=String(20))
    """That stage's `StageKind` value, kept here so lists and the outreach planner need no join;
    "" for a candidate of an interview without stages (one voice stage)."""
    stage_entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the candidate reached their current stage (invitations and reminders count from it);
    None: when they were added."""


class CandidateNote(Table, table=True):
    """An internal note on a candidate, visible to the team only."""

    __tablename__ = "candidate_note"

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="app_user.id")
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class CandidateRating(Table, table=True):
    """One teammate's rating of one candidate (stars 1-5 and/or thumbs +1/-1); re-rating updates it."""

    __tablename__ = "candidate_rating"
    __table_args__ = (UniqueConstraint("candidate_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="app_user.id")
    stars: int | None = None
    thumb: int | None = None
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class StageStatus(StrEnum):
    INVITED = "invited"
    IN_PROGRESS = "in_progress"
    PASSED = "passed"
    NOT_PASSED = "not_passed"
    """Finished below the stage's pass score, or undecided: waits for a recruiter."""
    KNOCKED_OUT = "knocked_out"


class CandidateStage(Table, table=True):
    """A candidate's result at one stage of their pipeline (issue 18, migration 0010)."""

    __tablename__ = "candidate_stage"
    __table_args__ = (UniqueConstraint("candidate_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", ondelete="CASCADE")
    position: int
    kind: str = Field(sa_type=String(20))
    status: str = Field(default=StageStatus.INVITED.value, sa_type=String(20))
    """A `StageStatus` value."""
    score: float | None = None
    reason: str = Field(default="", sa_type=Text)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    """Verbatim quotes that back the result: [{"quote": ..., "source": ...}]."""
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """What the candidate entered (a form's answers by field id, saved as they go)."""
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The judgement in full (score card, per-field results)."""
    started_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overridden_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    """The recruiter who overrode the automatic result (the audit log has when and why)."""
