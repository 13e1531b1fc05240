"""Response steps: approvals of destructive steps, retries with back-off, and manager validation.

``response_steps`` holds every step of every runbook run (awaiting approval, retrying, done...);
``person_risk.manager_validation_until`` is the runbooks' "the manager confirms sensitive requests
on this person until then".

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("person_risk", sa.Column("manager_validation_until", sa.DateTime(), nullable=True))
    op.create_table(
        "response_steps",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("runbook_id", sa.String(length=200), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("approval", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("approver_id", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "step", name=op.f("pk_response_steps")),
    )
    op.create_index("ix_response_steps_tenant_status", "response_steps", ["tenant_id", "status"])
    op.create_index("ix_response_steps_due", "response_steps", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_response_steps_due", table_name="response_steps")
    op.drop_index("ix_response_steps_tenant_status", table_name="response_steps")
    op.drop_table("response_steps")
    with op.batch_alter_table("person_risk") as batch:  # SQLite drops a column by rebuilding the table
        batch.drop_column("manager_validation_until")
