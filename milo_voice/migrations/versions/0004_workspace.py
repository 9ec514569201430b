"""Recruiter workspace: users, roles, API keys, notes, ratings, audit trail (issue 5).

Revision ID: 0004
Revises: 0003
Created: 2026-11-22 (reserved in order so parallel work chains cleanly; filled in by its issue)
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
