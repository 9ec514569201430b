"""Several serve nodes on one database (issue 21 item 3): each node's heartbeat, the node each live call
is on, and the node that runs each session.

Revision ID: 0014
Revises: 0013
Created: 2026-12-06 (written by hand after the model change; checked by tests/store/test_migrations.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "serve_node",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("stream_url", sa.Text(), nullable=False),
        sa.Column("live_calls", sa.Integer(), nullable=False),
        sa.Column("max_live_calls", sa.Integer(), nullable=False),
        sa.Column("draining", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_serve_node")),
    )
    op.create_index(op.f("ix_serve_node_heartbeat_at"), "serve_node", ["heartbeat_at"])
    op.create_table(
        "live_call",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_live_call")),
    )
    op.create_index(op.f("ix_live_call_node"), "live_call", ["node"])
    op.add_column("interview_session",
                  sa.Column("node", sa.String(length=100), nullable=False, server_default=""))
    op.create_index(op.f("ix_interview_session_node"), "interview_session", ["node"])


def downgrade() -> None:
    op.drop_index(op.f("ix_interview_session_node"), table_name="interview_session")
    with op.batch_alter_table("interview_session") as batch:  # SQLite rebuilds the table to drop a column
        batch.drop_column("node")
    op.drop_index(op.f("ix_live_call_node"), table_name="live_call")
    op.drop_table("live_call")
    op.drop_index(op.f("ix_serve_node_heartbeat_at"), table_name="serve_node")
    op.drop_table("serve_node")
