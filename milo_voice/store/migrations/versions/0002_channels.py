"""Live channels: phone numbers, call mapping, resumable WebRTC sessions (issue 3).

Revision ID: 0002
Revises: 0001
Created: 2026-11-22 (reserved in order so parallel work chains cleanly; filled in by its issue)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Phone channel (issue 3): numbers that reach an interview, keypad access codes, calls.
    op.create_table(
        "phone_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"], ["interview.id"], name=op.f("fk_phone_number_interview_id_interview")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_number")),
        sa.UniqueConstraint("number", name=op.f("uq_phone_number_number")),
    )
    op.create_index(op.f("ix_phone_number_interview_id"), "phone_number", ["interview_id"])
    op.create_table(
        "phone_access_code",
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_phone_access_code_candidate_id_candidate")
        ),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_phone_access_code")),
        sa.UniqueConstraint("code", name=op.f("uq_phone_access_code_code")),
    )
    op.create_table(
        "phone_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("from_number", sa.String(length=40), nullable=False),
        sa.Column("to_number", sa.String(length=40), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stream_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_phone_call_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"], ["interview.id"], name=op.f("fk_phone_call_interview_id_interview")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["interview_session.id"], name=op.f("fk_phone_call_session_id_interview_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_call")),
        sa.UniqueConstraint("ticket_hash", name=op.f("uq_phone_call_ticket_hash")),
    )
    op.create_index(op.f("ix_phone_call_call_sid"), "phone_call", ["call_sid"])
    op.create_index(op.f("ix_phone_call_interview_id"), "phone_call", ["interview_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_phone_call_interview_id"), table_name="phone_call")
    op.drop_index(op.f("ix_phone_call_call_sid"), table_name="phone_call")
    op.drop_table("phone_call")
    op.drop_table("phone_access_code")
    op.drop_index(op.f("ix_phone_number_interview_id"), table_name="phone_number")
    op.drop_table("phone_number")
