"""Consent, retention, erasure and accommodations (issue 20 items 2, 3 and 5; migration 0013).

- `PrivacyNotice`: the AI-use and data notice a candidate is shown, versioned; the newest row is the one
  shown. No row: the built-in notice (version 0).
- `ConsentRecord`: the notice a candidate agreed to (its version and the exact text's SHA-256), when,
  from where (an IP address or the calling number) and on which channel.
- `ComplianceSettings`: the workspace's retention windows (one row, id 1; no row: keep everything).
- `ErasureRequest`: a candidate's request to be erased, confirmed through a link sent by email.
- `ErasureTombstone`: what stays after an erasure: no personal data, only what the audit needs.
- `Accommodation`: one candidate's accommodations (extra time, a text-only path) and their request.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


class PrivacyNotice(Table, table=True):
    """One version of the notice candidates see before an interview; editing it adds a version."""

    __tablename__ = "privacy_notice"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")


class ConsentChannel(StrEnum):
    WEB = "web"
    """The browser interview (WebRTC)."""
    PHONE = "phone"
    SMS = "sms"
    FORM = "form"
    """A form, assessment or resume stage in the browser."""


class ConsentRecord(Table, table=True):
    """A candidate agreed to a notice: which version (and the SHA-256 of the exact text), when, from
    where and on which channel. A candidate who consents again (a retake, another stage) adds a row."""

    __tablename__ = "consent_record"

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True, ondelete="CASCADE")
    notice_version: int
    notice_sha256: str = Field(sa_type=String(64))
    channel: str = Field(sa_type=String(20))
    """A `ConsentChannel` value."""
    address: str = Field(default="", sa_type=String(100))
    """The client's IP address (web) or the calling number (phone, SMS)."""
    user_agent: str = Field(default="", sa_type=String(300))
    consented_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ComplianceSettings(Table, table=True):
    """Retention windows in days, per kind of data (one row, id 1). None: kept until erased."""

    __tablename__ = "compliance_settings"

    id: int | None = Field(default=None, primary_key=True)
    recordings_days: int | None = None
    transcripts_days: int | None = None
    scores_days: int | None = None
    messages_days: int | None = None
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")


class ErasureStatus(StrEnum):
    PENDING = "pending"
    """Asked for; waiting for the candidate to confirm through the emailed link."""
    DONE = "done"
    EXPIRED = "expired"


class ErasureRequest(Table, table=True):
    """A candidate asked to be erased; only the SHA-256 of the confirmation token is stored."""

    __tablename__ = "erasure_request"

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int | None = Field(
        default=None, foreign_key="candidate.id", index=True, ondelete="SET NULL"
    )
    token_sha256: str = Field(sa_type=String(64), unique=True, repr=False)
    status: str = Field(default=ErasureStatus.PENDING.value, sa_type=String(20))
    """An `ErasureStatus` value."""
    requested_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ErasureTombstone(Table, table=True):
    """What remains of an erased candidate: no name, contact or content; who erased, when, why, and
    how much was removed (counts of rows by table, files and bytes)."""

    __tablename__ = "erasure_tombstone"

    id: int | None = Field(default=None, primary_key=True)
    former_candidate_id: int = Field(index=True)
    """The erased candidate's id (no foreign key: the row is gone)."""
    interview_id: int | None = Field(default=None, foreign_key="interview.id", ondelete="SET NULL")
    initiated_by: str = Field(sa_type=String(20))
    """candidate (a confirmed request), admin, or retention."""
    erased_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    reason: str = Field(default="", sa_type=Text)
    removed: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    erased_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class AccommodationStatus(StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    """The candidate asked; a person has not answered yet."""
    GRANTED = "granted"
    DECLINED = "declined"


class Accommodation(Table, table=True):
    """One candidate's accommodations. Never read by the scorer."""

    __tablename__ = "accommodation"

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", unique=True, ondelete="CASCADE")
    patience_multiplier: float = 1.0
    """Extra time: every wait of the turn-taking scaled by this (1.0: none)."""
    text_only: bool = False
    """The candidate takes a text path (the form or SMS stage) instead of a voice interview."""
    request_text: str = Field(default="", sa_type=Text)
    """What the candidate asked for, in their words."""
    status: str = Field(default=AccommodationStatus.NONE.value, sa_type=String(20))
    """An `AccommodationStatus` value."""
    requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handled_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = Field(default="", sa_type=Text)
    """The person's note on what was granted or why not."""
