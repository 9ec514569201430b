"""Live channels: phone numbers, call mapping, resumable WebRTC sessions (issue 3).

Revision ID: 0002
Revises: 0001
Created: 2026-11-22 (reserved in order so parallel work chains cleanly; filled in by its issue)
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
