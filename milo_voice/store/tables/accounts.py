"""Recruiter workspace (issue 5, migration 0004): accounts, invites, API keys, audit trail, secrets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlmodel import Field

from milo_voice.store.tables.base import Table, UTCDateTime, utc_now


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


class UserSession(Table, table=True):
    """A signed-in browser (issue 20, migration 0011). The cookie carries a random session id; only its
    SHA-256 is stored, so a copy of the database signs nobody in. A request's session is live while
    `revoked_at` is empty (logout and password changes set it) and `last_seen_at` is recent."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=String(64), unique=True, repr=False)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    """Refreshed at most once a minute by requests; the idle timeout counts from it."""
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    user_agent: str = Field(default="", sa_type=String(200))
    address: str = Field(default="", sa_type=String(100))
    """The client address at sign-in (for the user's own list of sessions; never logged)."""
