"""Consent, retention, erasure and accommodations (issue 20 items 2, 3 and 5), and one phone call per
CallSid (a unique index, finding 3 of the outside probe).

Revision ID: 0013
Revises: 0012
Created: 2026-12-05 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_EMPTY = "call_sid != ''"


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["app_user.id"], name=op.f(f"fk_{table}_{column}_app_user"), ondelete="SET NULL"
    )


def _candidate_fk(table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["candidate_id"], ["candidate.id"], name=op.f(f"fk_{table}_candidate_id_candidate"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "privacy_notice",
        _id(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _user_fk("privacy_notice", "created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_notice")),
        sa.UniqueConstraint("version", name=op.f("uq_privacy_notice_version")),
    )
    op.create_table(
        "consent_record",
        _id(),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("notice_version", sa.Integer(), nullable=False),
        sa.Column("notice_sha256", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        _candidate_fk("consent_record", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_record")),
    )
    op.create_index(op.f("ix_consent_record_candidate_id"), "consent_record", ["candidate_id"])
    op.create_table(
        "compliance_settings",
        _id(),
        sa.Column("recordings_days", sa.Integer(), nullable=True),
        sa.Column("transcripts_days", sa.Integer(), nullable=True),
        sa.Column("scores_days", sa.Integer(), nullable=True),
        sa.Column("messages_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        _user_fk("compliance_settings", "updated_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_settings")),
    )
    op.create_table(
        "erasure_request",
        _id(),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        _candidate_fk("erasure_request", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_request")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_erasure_request_token_sha256")),
    )
    op.create_index(op.f("ix_erasure_request_candidate_id"), "erasure_request", ["candidate_id"])
    op.create_table(
        "erasure_tombstone",
        _id(),
        sa.Column("former_candidate_id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=True),
        sa.Column("initiated_by", sa.String(length=20), nullable=False),
        sa.Column("erased_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interview.id"],
            name=op.f("fk_erasure_tombstone_interview_id_interview"),
            ondelete="SET NULL",
        ),
        _user_fk("erasure_tombstone", "erased_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_tombstone")),
    )
    op.create_index(
        op.f("ix_erasure_tombstone_former_candidate_id"), "erasure_tombstone", ["former_candidate_id"]
    )
    op.create_table(
        "accommodation",
        _id(),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("patience_multiplier", sa.Float(), nullable=False),
        sa.Column("text_only", sa.Boolean(), nullable=False),
        sa.Column("request_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.Integer(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        _candidate_fk("accommodation", "CASCADE"),
        _user_fk("accommodation", "handled_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accommodation")),
        sa.UniqueConstraint("candidate_id", name=op.f("uq_accommodation_candidate_id")),
    )
    _unique_call_sid()


def _unique_call_sid() -> None:
    """Before the unique index: a CallSid seen twice (replays before 0011's check) keeps its oldest row;
    the later rows lose the CallSid (kept, with their sessions, and marked in `status_detail`)."""
    op.execute(
        "UPDATE phone_call SET status_detail = 'replayed CallSid ' || substr(call_sid, 1, 40), call_sid = '' "
        "WHERE call_sid != '' AND id > (SELECT min(first.id) FROM phone_call AS first "
        "WHERE first.call_sid = phone_call.call_sid)"
    )
    op.drop_index(op.f("ix_phone_call_call_sid"), table_name="phone_call")
    op.create_index(
        "uq_phone_call_call_sid",
        "phone_call",
        ["call_sid"],
        unique=True,
        sqlite_where=sa.text(NOT_EMPTY),
        postgresql_where=sa.text(NOT_EMPTY),
    )


def downgrade() -> None:
    op.drop_index("uq_phone_call_call_sid", table_name="phone_call")
    op.create_index(op.f("ix_phone_call_call_sid"), "phone_call", ["call_sid"])
    for table in (
        "accommodation",
        "erasure_tombstone",
        "erasure_request",
        "compliance_settings",
        "consent_record",
        "privacy_notice",
    ):
        op.drop_table(table)
