"""Candidate intake (issue 17, migration 0009): upload batches reviewed before anyone is added,
resumes kept with their candidates, ATS orders, and the signed inbound webhook's secrets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


class BatchStatus(StrEnum):
    MAPPING = "mapping"
    """A CSV list waiting for the recruiter to confirm its column mapping (nothing is read before)."""
    READING = "reading"
    """Queued or being read by the background job (files extracted, rows parsed)."""
    REVIEW = "review"
    """Read: waiting for a recruiter to edit, select, ingest or discard."""
    DONE = "done"
    """Every row was ingested or discarded."""
    FAILED = "failed"
    """The upload as a whole could not be read (the reason is in `error`)."""


class ItemStatus(StrEnum):
    PENDING = "pending"
    """Extracted, awaiting the recruiter's decision."""
    PROBLEM = "problem"
    """Could not be read (a hostile archive member, an encrypted PDF, a bad CSV row): never ingested."""
    INGESTED = "ingested"
    DISCARDED = "discarded"


class IntakeBatch(Table, table=True):
    """One upload (files or a CSV list) for one interview, read in the background, then reviewed."""

    __tablename__ = "intake_batch"

    id: int | None = Field(default=None, primary_key=True)
    interview_slug: str = Field(sa_type=String(100), index=True)
    kind: str = Field(sa_type=String(10))
    """"files" (PDF, DOCX and ZIPs of them) or "csv" (a candidate list)."""
    status: str = Field(default=BatchStatus.READING.value, sa_type=String(10))
    """A `BatchStatus` value."""
    filenames: list[str] = Field(default_factory=list, sa_type=JSON)
    """The uploaded files' names as the recruiter's browser sent them."""
    total: int = 0
    """Units to read (documents, or CSV rows estimated); 0 until counted."""
    done: int = 0
    """Units read so far (the progress bar)."""
    error: str = Field(default="", sa_type=Text)
    csv_layout: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """For a CSV: encoding, delimiter, header flag, columns, preview rows and the column mapping."""
    created_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IntakeItem(Table, table=True):
    """One extracted profile (a resume or a CSV row) of a batch; becomes a candidate when ingested."""

    __tablename__ = "intake_item"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="intake_batch.id", index=True, ondelete="CASCADE")
    position: int = 0
    source: str = Field(sa_type=String(300))
    """Where it came from: "resumes.zip / jane.pdf", or "candidates.csv, line 12"."""
    status: str = Field(default=ItemStatus.PENDING.value, sa_type=String(10))
    name: str = Field(default="", sa_type=String(200))
    email: str = Field(default="", sa_type=String(320))
    phone: str = Field(default="", sa_type=String(40))
    location: str = Field(default="", sa_type=String(200))
    external_id: str = Field(default="", sa_type=String(200))
    confidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """Field -> {"confidence": 0..1, "reason": why it is low}: the extractor's own doubt."""
    problem: str = Field(default="", sa_type=Text)
    """Why the item cannot be ingested (status problem), e.g. "encrypted PDF"."""
    note: str = Field(default="", sa_type=Text)
    """A remark that does not block ingesting, e.g. "no text found: scanned document?"."""
    file_path: str = Field(default="", sa_type=String(500))
    """The stored document, relative to MILO_UPLOADS_DIR; empty for CSV rows."""
    text: str = Field(default="", sa_type=Text)
    """The document's text (the resume-screening stage reads it later)."""
    edited: bool = False
    """A recruiter changed a field by hand."""
    candidate_id: int | None = Field(default=None, sa_type=Integer)
    """The candidate it became (or updated, by external id)."""


class CandidateResume(Table, table=True):
    """The resume a candidate came in with: the file (under MILO_UPLOADS_DIR) and its text."""

    __tablename__ = "candidate_resume"

    candidate_id: int = Field(foreign_key="candidate.id", primary_key=True, ondelete="CASCADE")
    filename: str = Field(sa_type=String(300))
    """The name to download it under."""
    path: str = Field(sa_type=String(500))
    """Relative to MILO_UPLOADS_DIR."""
    content_type: str = Field(sa_type=String(100))
    size: int = 0
    text: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class AtsOrder(Table, table=True):
    """An ATS's request to interview one candidate (Greenhouse send_test, Workable assessment), and
    where results go back."""

    __tablename__ = "ats_order"
    __table_args__ = (UniqueConstraint("provider", "external_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(sa_type=String(20))
    """"greenhouse" or "workable"."""
    external_ref: str = Field(sa_type=String(200))
    """The ATS's own id for this order (application / assessment id): a repeat does not duplicate."""
    partner_id: str = Field(sa_type=String(64), unique=True)
    """Our id for it, returned to the ATS (partner_interview_id / assessment id)."""
    candidate_id: int = Field(foreign_key="candidate.id", index=True, ondelete="CASCADE")
    callback_url: str = Field(default="", sa_type=Text)
    api_key_id: int | None = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    """The key the ATS authenticated with (Greenhouse: Basic; Workable: bearer)."""
    last_status: str = Field(default="", sa_type=String(20))
    """The status last delivered to the callback."""
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class IntakeHook(Table, table=True):
    """The signed inbound webhook of one interview (by slug): its secret, shown on the settings page."""

    __tablename__ = "intake_hook"

    interview_slug: str = Field(sa_type=String(100), primary_key=True)
    secret: str = Field(sa_type=String(100), repr=False)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
