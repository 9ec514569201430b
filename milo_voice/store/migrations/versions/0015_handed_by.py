"""The node that began each message's hand-over (issue 21): another node settles a stranded hand-over
only once that node is dead or gone, so a message in flight on a live node is never sent twice.

Revision ID: 0015
Revises: 0014
Created: 2026-12-06 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outreach_message",
                  sa.Column("handed_by", sa.String(length=100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("outreach_message") as batch:  # SQLite rebuilds the table to drop a column
        batch.drop_column("handed_by")
