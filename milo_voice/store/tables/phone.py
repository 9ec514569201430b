"""Phone channel (issue 3, migration 0002): numbers that reach an interview, keypad access codes, calls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, text
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


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
    __table_args__ = (
        # One row per CallSid (a replayed webhook gets no second ticket); "" (not known yet) may repeat.
        Index(
            "uq_phone_call_call_sid", "call_sid", unique=True,
            sqlite_where=text("call_sid != ''"), postgresql_where=text("call_sid != ''"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_sid: str = Field(default="", sa_type=String(64))
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
    status: str = Field(default="", sa_type=String(20))
    """Twilio's CallStatus (queued, initiated, ringing, in-progress, completed, busy, no-answer, canceled,
    failed), from its status callbacks; "failed" with `status_detail` also when we could not place the
    call (migration 0006). Empty until something reports one."""
    status_detail: str = Field(default="", sa_type=String(300))
    """Why a call failed or did not connect, in words (ours, or Twilio's error)."""
    duration_s: int | None = Field(default=None, sa_type=Integer)
    """Twilio's CallDuration (whole seconds) once the call has ended."""
    status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When `status` last changed."""
