"""Candidate outreach (issue 16, migration 0007): every message to a candidate with its verdicts
and delivery states, each candidate's opt-outs and pause, and inbound SMS replies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


class MessageStatus(StrEnum):
    SCHEDULED = "scheduled"
    """Waiting for `due_at`."""
    DEFERRED = "deferred"
    """The policy moved it to `due_at` (quiet hours, a cap or a gap)."""
    SENDING = "sending"
    """Being handed to the provider: the mark written before the hand-over (see outreach/outbox.py)."""
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    """The policy stopped it (an opt-out, the company switch, a limit); `reason` says which."""


class OutreachMessage(Table, table=True):
    """One message to one candidate on one channel, from scheduling to delivery."""

    __tablename__ = "outreach_message"
    __table_args__ = (Index(None, "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True, ondelete="CASCADE")
    kind: str = Field(sa_type=String(30))
    """A `outreach.types.MessageKind` value."""
    channel: str = Field(sa_type=String(10))
    dedupe_key: str = Field(sa_type=String(120), unique=True)
    """What makes a trigger idempotent: the same key is never scheduled twice."""
    recipient: str = Field(default="", sa_type=String(320))
    template: str = Field(default="", sa_type=String(60))
    variant: str = Field(default="", sa_type=String(20))
    subject: str = Field(default="", sa_type=Text)
    body_text: str = Field(default="", sa_type=Text)
    body_html: str = Field(default="", sa_type=Text)
    status: str = Field(default=MessageStatus.SCHEDULED.value, sa_type=String(20))
    reason: str = Field(default="", sa_type=Text)
    """The last verdict's or failure's reason."""
    due_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    handed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the hand-over to the provider began (status sending)."""
    handed_by: str = Field(default="", sa_type=String(100))
    """The node (MILO_NODE_NAME) that began the hand-over; "" before migration 0015."""
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_id: str = Field(default="", sa_type=String(200))
    attempts: int = 0
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class OutreachEvent(Table, table=True):
    """One step in a message's life: a verdict, a hand-over, a delivery state (append-only)."""

    __tablename__ = "outreach_event"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outreach_message.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    state: str = Field(sa_type=String(30))
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class CandidateContact(Table, table=True):
    """How a candidate may be contacted: opt-outs, an explicit time zone, a pause."""

    __tablename__ = "candidate_contact"

    candidate_id: int = Field(foreign_key="candidate.id", primary_key=True, ondelete="CASCADE")
    email_opt_out: bool = False
    sms_opt_out: bool = False
    time_zone: str = Field(default="", sa_type=String(60))
    """An IANA zone; "" means: from the phone number, else the company's."""
    paused: bool = False
    """Needs a person: automation is paused for this candidate."""
    pause_reason: str = Field(default="", sa_type=Text)
    last_engaged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Escalation (migration 0008)
    flag_kind: str = Field(default="", sa_type=String(30))
    """Why the candidate needs a person: `outreach.escalation.FlagKind` value, "" when not flagged."""
    flagged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InboundMessage(Table, table=True):
    """An SMS a candidate (or anyone) sent to one of our numbers."""

    __tablename__ = "inbound_message"

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int | None = Field(
        default=None, foreign_key="candidate.id", index=True, ondelete="SET NULL")
    from_number: str = Field(sa_type=String(40))
    to_number: str = Field(default="", sa_type=String(40))
    body: str = Field(default="", sa_type=Text)
    keyword: str = Field(default="", sa_type=String(20))
    """opt_out, opt_in, help, or "" for free text."""
    provider_id: str = Field(default="", sa_type=String(200))
    received_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class OutreachTemplate(Table, table=True):
    """A recruiter's template for one interview (all its versions: keyed by slug), one message kind
    and channel; several variants make an A/B test (migration 0008). No row: the default."""

    __tablename__ = "outreach_template"
    __table_args__ = (UniqueConstraint("interview_slug", "kind", "channel", "variant"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_slug: str = Field(sa_type=String(100))
    kind: str = Field(sa_type=String(30))
    channel: str = Field(sa_type=String(10))
    variant: str = Field(default="A", sa_type=String(20))
    subject: str = Field(default="", sa_type=Text)
    body: str = Field(default="", sa_type=Text)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")


class InterviewOutreach(Table, table=True):
    """One interview's outreach settings (all its versions: keyed by slug; migration 0008). No row:
    the server's defaults."""

    __tablename__ = "interview_outreach"

    interview_slug: str = Field(sa_type=String(100), primary_key=True)
    deadline_days: int = 7
    """Days from when a candidate is added to their deadline (a candidate's own deadline wins)."""
    sms_invitations: bool | None = None
    """Text invitations and reminders too; None: the server's MILO_SMS_INVITATIONS."""
    remind_not_started: bool = True
    """24 h and 48 h after the invitation, if they have not started."""
    remind_unfinished: bool = True
    """Started but not finished (the link still open)."""
    remind_deadline: bool = True
    """24 h before the deadline."""
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class OutreachSettings(Table, table=True):
    """The company's guardrails as set on the settings page (one row, id 1; migration 0008). No row:
    the MILO_* settings and the guardrails' defaults."""

    __tablename__ = "outreach_settings"

    id: int | None = Field(default=None, primary_key=True)
    enabled: bool = True
    """False: "Turn off all candidate communications"."""
    window_start: int = 9
    window_end: int = 20
    weekends: bool = False
    daily_cap: int = 3
    max_reminders: int = 3
    sms_gap_minutes: int = 60
    nudge_gap_hours: int = 24
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
