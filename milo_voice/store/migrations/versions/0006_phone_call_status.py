"""Phone call status (issue 14): Twilio's CallStatus from status callbacks, why a call failed, its
duration and when the status last changed.

Revision ID: 0006
Revises: 0005
Created: 2026-12-05 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("phone_call", sa.Column("status", sa.String(length=20), nullable=False, server_default=""))
    op.add_column(
        "phone_call", sa.Column("status_detail", sa.String(length=300), nullable=False, server_default="")
    )
    op.add_column("phone_call", sa.Column("duration_s", sa.Integer(), nullable=True))
    op.add_column("phone_call", sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phone_call") as batch:  # SQLite rebuilds the table to drop columns
        batch.drop_column("status_at")
        batch.drop_column("duration_s")
        batch.drop_column("status_detail")
        batch.drop_column("status")
