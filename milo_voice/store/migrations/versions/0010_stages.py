"""Interview stages (issue 18): each interview version's ordered stages, each candidate's result at
each stage, and where each candidate is in their pipeline.

Revision ID: 0010
Revises: 0009
Created: 2026-12-05 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("candidate", sa.Column("stage_position", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("candidate",
                  sa.Column("stage_kind", sa.String(length=20), nullable=False, server_default=""))
    op.add_column("candidate", sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "interview_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"],
                                name=op.f("fk_interview_stage_interview_id_interview"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_stage")),
        sa.UniqueConstraint("interview_id", "position",
                            name=op.f("uq_interview_stage_interview_id_position")),
    )
    op.create_table(
        "candidate_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overridden_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"],
                                name=op.f("fk_candidate_stage_candidate_id_candidate"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["overridden_by"], ["app_user.id"],
                                name=op.f("fk_candidate_stage_overridden_by_app_user"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_stage")),
        sa.UniqueConstraint("candidate_id", "position",
                            name=op.f("uq_candidate_stage_candidate_id_position")),
    )


def downgrade() -> None:
    op.drop_table("candidate_stage")
    op.drop_table("interview_stage")
    with op.batch_alter_table("candidate") as batch:  # SQLite rebuilds the table to drop columns
        batch.drop_column("stage_entered_at")
        batch.drop_column("stage_kind")
        batch.drop_column("stage_position")
