"""Person risk and response: the detection signals about each person (read by every policy
decision), the watch list, and the runbook runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_risk",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("watch_until", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", name=op.f("pk_person_risk")),
    )
    op.create_table(
        "response_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("runbook_id", sa.String(length=200), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_runs")),
    )


def downgrade() -> None:
    op.drop_table("response_runs")
    op.drop_table("person_risk")
