"""Rubrics, scores with evidence, jobs, reports and webhooks (issue 6).

Revision ID: 0003
Revises: 0002
Created: 2026-11-22 (reserved in order so parallel work chains cleanly; filled in by its issue)
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
