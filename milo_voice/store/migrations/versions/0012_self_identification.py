"""Voluntary self-identification for the bias audit (issue 20 item 4): sex and race/ethnicity in EEO-1
categories, one row per candidate, in a table of its own that only the audit reads.

Revision ID: 0012
Revises: 0011
Created: 2026-12-09 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "self_identification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(length=40), nullable=False),
        sa.Column("race_ethnicity", sa.String(length=60), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_self_identification_candidate_id_candidate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_identification")),
        sa.UniqueConstraint("candidate_id", name=op.f("uq_self_identification_candidate_id")),
    )


def downgrade() -> None:
    op.drop_table("self_identification")
