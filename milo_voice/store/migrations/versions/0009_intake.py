"""Candidate intake (issue 17): upload batches and their extracted items, candidates' resumes,
external ids and locations, ATS orders, and the inbound webhook's per-interview secrets.

Revision ID: 0009
Revises: 0008
Created: 2026-12-05 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _text(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Text(), nullable=False)


def _str(name: str, length: int) -> sa.Column[object]:
    return sa.Column(name, sa.String(length=length), nullable=False)


def upgrade() -> None:
    op.add_column("candidate", sa.Column("external_id", sa.String(length=200), nullable=True))
    op.add_column("candidate",
                  sa.Column("location", sa.String(length=200), nullable=False, server_default=""))
    op.create_index("ix_candidate_interview_id_external_id", "candidate", ["interview_id", "external_id"],
                    unique=True)
    op.create_table(
        "intake_batch",
        _id(),
        _str("interview_slug", 100),
        _str("kind", 10),
        _str("status", 10),
        sa.Column("filenames", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        _text("error"),
        sa.Column("csv_layout", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _ts("created_at"),
        _ts("finished_at", nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"],
                                name=op.f("fk_intake_batch_created_by_app_user"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_batch")),
    )
    op.create_index(op.f("ix_intake_batch_interview_slug"), "intake_batch", ["interview_slug"])
    op.create_table(
        "intake_item",
        _id(),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _str("source", 300),
        _str("status", 10),
        _str("name", 200),
        _str("email", 320),
        _str("phone", 40),
        _str("location", 200),
        _str("external_id", 200),
        sa.Column("confidence", sa.JSON(), nullable=False),
        _text("problem"),
        _text("note"),
        _str("file_path", 500),
        _text("text"),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["intake_batch.id"],
                                name=op.f("fk_intake_item_batch_id_intake_batch"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_item")),
    )
    op.create_index(op.f("ix_intake_item_batch_id"), "intake_item", ["batch_id"])
    op.create_table(
        "candidate_resume",
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        _str("filename", 300),
        _str("path", 500),
        _str("content_type", 100),
        sa.Column("size", sa.Integer(), nullable=False),
        _text("text"),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"],
                                name=op.f("fk_candidate_resume_candidate_id_candidate"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_candidate_resume")),
    )
    op.create_table(
        "ats_order",
        _id(),
        _str("provider", 20),
        _str("external_ref", 200),
        _str("partner_id", 64),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        _text("callback_url"),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        _str("last_status", 20),
        _ts("created_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"],
                                name=op.f("fk_ats_order_candidate_id_candidate"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_key.id"],
                                name=op.f("fk_ats_order_api_key_id_api_key"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ats_order")),
        sa.UniqueConstraint("partner_id", name=op.f("uq_ats_order_partner_id")),
        sa.UniqueConstraint("provider", "external_ref", name=op.f("uq_ats_order_provider_external_ref")),
    )
    op.create_index(op.f("ix_ats_order_candidate_id"), "ats_order", ["candidate_id"])
    op.create_table(
        "intake_hook",
        _str("interview_slug", 100),
        _str("secret", 100),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("interview_slug", name=op.f("pk_intake_hook")),
    )


def downgrade() -> None:
    op.drop_table("intake_hook")
    op.drop_table("ats_order")
    op.drop_table("candidate_resume")
    op.drop_table("intake_item")
    op.drop_table("intake_batch")
    op.drop_index("ix_candidate_interview_id_external_id", table_name="candidate")
    with op.batch_alter_table("candidate") as batch:  # SQLite rebuilds the table to drop columns
        batch.drop_column("location")
        batch.drop_column("external_id")
