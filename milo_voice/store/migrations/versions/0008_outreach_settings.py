"""Outreach settings (issue 16): per-interview templates with A/B variants and outreach settings,
the company's guardrails, each candidate's source, own deadline and first link open, and why a
candidate needs a person.

Revision ID: 0008
Revises: 0007
Created: 2026-12-05 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _by_user(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["updated_by"], ["app_user.id"],
                                   name=op.f(f"fk_{table}_updated_by_app_user"), ondelete="SET NULL")


def upgrade() -> None:
    op.add_column("candidate", sa.Column("source", sa.String(length=20), nullable=False, server_default=""))
    op.add_column("candidate", _ts("deadline_at", nullable=True))
    op.add_column("candidate", _ts("opened_at", nullable=True))
    op.add_column("candidate_contact",
                  sa.Column("flag_kind", sa.String(length=30), nullable=False, server_default=""))
    op.add_column("candidate_contact", _ts("flagged_at", nullable=True))
    op.create_table(
        "outreach_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_slug", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("variant", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        _by_user("outreach_template"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_template")),
        sa.UniqueConstraint("interview_slug", "kind", "channel", "variant",
                            name=op.f("uq_outreach_template_interview_slug_kind_channel_variant")),
    )
    op.create_table(
        "interview_outreach",
        sa.Column("interview_slug", sa.String(length=100), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("sms_invitations", sa.Boolean(), nullable=True),
        sa.Column("remind_not_started", sa.Boolean(), nullable=False),
        sa.Column("remind_unfinished", sa.Boolean(), nullable=False),
        sa.Column("remind_deadline", sa.Boolean(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("interview_slug", name=op.f("pk_interview_outreach")),
    )
    op.create_table(
        "outreach_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("window_end", sa.Integer(), nullable=False),
        sa.Column("weekends", sa.Boolean(), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.Column("max_reminders", sa.Integer(), nullable=False),
        sa.Column("sms_gap_minutes", sa.Integer(), nullable=False),
        sa.Column("nudge_gap_hours", sa.Integer(), nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        _by_user("outreach_settings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_settings")),
    )


def downgrade() -> None:
    op.drop_table("outreach_settings")
    op.drop_table("interview_outreach")
    op.drop_table("outreach_template")
    with op.batch_alter_table("candidate_contact") as batch:  # SQLite rebuilds the table to drop columns
        batch.drop_column("flagged_at")
        batch.drop_column("flag_kind")
    with op.batch_alter_table("candidate") as batch:
        batch.drop_column("opened_at")
        batch.drop_column("deadline_at")
        batch.drop_column("source")
