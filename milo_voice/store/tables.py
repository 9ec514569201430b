"""Database tables as SQLModel classes: columns, keys and indexes only, no queries or sessions.

Every change here needs a migration in `milo_voice/store/migrations/versions/`;
`tests/store/test_migrations.py` fails when the tables and the migrated schema disagree.
Timestamps are timezone-aware UTC.
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
    EVALUATING = "evaluating"
    """Scoring (issue 6) runs in the background after the session ended."""
    KNOCKED_OUT = "knocked_out"
    """A dealbreaker answer failed (issue 6): the candidate does not advance."""


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


# ---------------------------------------------------------------------------------------------
# Recruiter workspace (issue 5, migration 0004): accounts, API keys, notes, ratings, audit trail.


class UserRole(StrEnum):
    ADMIN = "admin"
    """Creates and edits interviews, manages teammates, API keys and settings."""
    VIEWER = "viewer"
    """Reviews, rates and comments; cannot change interviews or settings."""


class AppUser(Table, table=True):
    """A recruiter account. `password_hash` is an argon2id PHC string; the password is never stored."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(320), unique=True)
    """Lower-cased at write time, so lookups are case-insensitive."""
    name: str = Field(default="", sa_type=String(200))
    password_hash: str = Field(sa_type=String(200), repr=False)
    role: str = Field(sa_type=String(20))
    """A `UserRole` value."""
    active: bool = True
    session_version: int = 1
    """Bumped to sign the user out everywhere (sessions carry the version they were issued with)."""
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Invite(Table, table=True):
    """A single-use link to join the team with a role; only the SHA-256 of its token is stored."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=String(64), unique=True, repr=False)
    role: str = Field(sa_type=String(20))
    email: str = Field(default="", sa_type=String(320))
    """Who it is meant for (informational; the invitee chooses the account email)."""
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: int | None = Field(default=None, foreign_key="app_user.id")


class ApiKey(Table, table=True):
    """A programmatic key acting as its user (with that user's role); stored as SHA-256, shown once."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(sa_type=String(200))
    prefix: str = Field(sa_type=String(16))
    """First characters of the key, to tell keys apart in lists without revealing them."""
    key_hash: str = Field(sa_type=String(64), unique=True, repr=False)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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


class AuditEvent(Table, table=True):
    """Who viewed or changed what, and when. Append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (Index(None, "target_type", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor: str = Field(sa_type=String(400))
    """The user's email, with " (API key <prefix>)" when the action came through the API."""
    action: str = Field(sa_type=String(50))
    """e.g. login, view, create, edit, publish, archive, note, rate, status, invite, api_key."""
    target_type: str = Field(default="", sa_type=String(30))
    target_id: str = Field(default="", sa_type=String(100))
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class AppSecret(Table, table=True):
    """Server secrets generated once and shared by every process on the database (e.g. cookie signing)."""

    __tablename__ = "app_secret"

    name: str = Field(sa_type=String(50), primary_key=True)
    value: str = Field(sa_type=String(200), repr=False)


# ---------------------------------------------------------------------------------------------
# Phone channel (issue 3, migration 0002): numbers that reach an interview, keypad access codes, calls.


class PhoneNumber(Table, table=True):
    """A phone number that starts an interview when called: Twilio's `To`, in E.164 form."""

    __tablename__ = "phone_number"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_type=String(20), unique=True)
    """E.164, e.g. +14155550100 (normalised at write time)."""
    interview_id: int = Field(foreign_key="interview.id", index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class PhoneAccessCode(Table, table=True):
    """The digits a caller keys in when their own number does not identify them; one per candidate.

    Stored in clear: recruiters send it to the candidate, and a hash of a few digits protects nothing.
    Guessing is bounded per call (a few attempts, then the call ends)."""

    __tablename__ = "phone_access_code"

    candidate_id: int = Field(foreign_key="candidate.id", primary_key=True)
    code: str = Field(sa_type=String(16), unique=True, repr=False)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class PhoneCall(Table, table=True):
    """One call: its parties, the interview it reaches, and the one-time ticket its media stream presents.

    Only the SHA-256 of the ticket is stored. `candidate_id` stays None until the caller is identified."""

    __tablename__ = "phone_call"

    id: int | None = Field(default=None, primary_key=True)
    call_sid: str = Field(default="", sa_type=String(64), index=True)
    direction: str = Field(sa_type=String(20))
    """inbound or outbound."""
    from_number: str = Field(default="", sa_type=String(40))
    to_number: str = Field(default="", sa_type=String(40))
    interview_id: int = Field(foreign_key="interview.id", index=True)
    candidate_id: int | None = Field(default=None, foreign_key="candidate.id")
    ticket_hash: str = Field(sa_type=String(64), unique=True, repr=False)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    stream_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the media stream claimed the ticket (a ticket is good once)."""
    session_id: int | None = Field(default=None, foreign_key="interview_session.id")


# ---------------------------------------------------------------------------------------------
# Rubric scoring, background jobs and webhooks (issue 6, migration 0003).


class ScoreRecord(Table, table=True):
    """One scoring run of one session. Re-scoring adds a row; the newest row is the current score."""

    __tablename__ = "score"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="interview_session.id", index=True, ondelete="CASCADE")
    candidate_id: int = Field(foreign_key="candidate.id", index=True, ondelete="CASCADE")
    scorer: str = Field(sa_type=String(20))
    """`offline` or `llm`; `model` is "" for the offline scorer."""
    model: str = Field(default="", sa_type=String(200))
    prompt_hash: str = Field(sa_type=String(64))
    """SHA-256 of the exact scorer input (prompts, or the offline scorer's rubric + transcript)."""
    rubric_versions: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    """Question position (as a string) -> version of the rubric that was applied."""
    overall: float | None = Field(default=None, sa_type=Float)
    """Weighted score 0-100; None when nothing could be scored."""
    band: str = Field(default="", sa_type=String(20))
    knocked_out: bool = False
    needs_review: bool = False
    card: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The full `ScoreCard`, with rejected quotes and the reasons for review."""
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class JobStatus(StrEnum):
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job(Table, table=True):
    """A durable background job (scoring, webhook delivery); a restart re-runs the running ones."""

    __tablename__ = "job"
    __table_args__ = (Index(None, "status", "run_after"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(50))
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=JobStatus.QUEUED.value, sa_type=String(20))
    attempts: int = 0
    run_after: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class WebhookEndpoint(Table, table=True):
    """A URL that receives signed event notifications; `secret` keys its HMAC-SHA256 signatures."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=Text)
    secret: str = Field(sa_type=String(100), repr=False)
    events: list[str] = Field(default_factory=list, sa_type=JSON)
    """Event names it wants; empty: all."""
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class WebhookDelivery(Table, table=True):
    """One event sent (or being sent) to one endpoint: the delivery log."""

    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True, ondelete="CASCADE")
    event: str = Field(sa_type=String(50))
    body: str = Field(sa_type=Text)
    """The exact JSON bytes (UTF-8) that are signed and sent, so every retry sends the same body."""
    status: str = Field(default="pending", sa_type=String(20))
    """pending, delivered or failed."""
    attempts: int = 0
    response_status: int | None = None
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReportLink(Table, table=True):
    """An unguessable link to a session's report or an interview's export (the only key until auth)."""

    __tablename__ = "report_link"

    token: str = Field(sa_type=String(64), primary_key=True, repr=False)
    session_id: int | None = Field(default=None, foreign_key="interview_session.id", ondelete="CASCADE")
    interview_id: int | None = Field(default=None, foreign_key="interview.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
