"""Vishing exercises: campaigns and their test calls with the agent's feedback (domain.exercises).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
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
    op.create_table(
        "exercise_campaigns",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("provider_ids", sa.JSON(), nullable=False),
        sa.Column("operator_ids", sa.JSON(), nullable=False),
        sa.Column("script_ids", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_exercise_campaigns")),
    )
    op.create_index("ix_exercise_campaigns_quarter", "exercise_campaigns", ["tenant_id", "quarter"])
    op.create_table(
        "exercise_calls",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("script_id", sa.String(length=200), nullable=False),
        sa.Column("called_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("feedback_sent_at", sa.DateTime(), nullable=True),
        sa.Column("feedback_channel", sa.String(length=40), nullable=False),
        sa.Column("feedback_ref", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["exercise_campaigns.tenant_id", "exercise_campaigns.id"],
            name=op.f("fk_exercise_calls_tenant_id_exercise_campaigns"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_exercise_calls")),
    )
    op.create_index("ix_exercise_calls_campaign", "exercise_calls", ["tenant_id", "campaign_id"])
    op.create_index("ix_exercise_calls_operator", "exercise_calls", ["tenant_id", "operator_id"])
    op.create_index("ix_exercise_calls_quarter", "exercise_calls", ["tenant_id", "quarter"])


def downgrade() -> None:
    op.drop_table("exercise_calls")
    op.drop_table("exercise_campaigns")
