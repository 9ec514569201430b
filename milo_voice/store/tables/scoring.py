"""Rubric scoring, background jobs and webhooks (issue 6, migration 0003)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, Index, String, Text
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


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
