"""Attempt rules and triage (issue 14): retakes per interview and per candidate, the session that
counts, and the CPU a session cost (for spend in the analytics).

Revision ID: 0005
Revises: 0004
Created: 2026-12-04 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("interview", sa.Column("retakes_allowed", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("candidate", sa.Column("retakes_granted", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("candidate", sa.Column("counted_session_id", sa.Integer(), nullable=True))
    op.add_column("interview_session", sa.Column("cpu_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interview_session") as batch:  # SQLite rebuilds the table to drop columns
        batch.drop_column("cpu_s")
    with op.batch_alter_table("candidate") as batch:
        batch.drop_column("counted_session_id")
        batch.drop_column("retakes_granted")
    with op.batch_alter_table("interview") as batch:
        batch.drop_column("retakes_allowed")
