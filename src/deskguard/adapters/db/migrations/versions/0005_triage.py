"""Triage: cases, the alert-to-case links, verdicts and the learned priority model of each tenant.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("entity_kind", sa.String(length=16), nullable=False),
        sa.Column("entity", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_seen", sa.Double(), nullable=False),
        sa.Column("last_seen", sa.Double(), nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("rule_ids", sa.Text(), nullable=False),
        sa.Column("priority", sa.Double(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("risk", sa.Double(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_tenant_status_priority", "cases", ["tenant_id", "status", "priority"])
    op.create_index("ix_cases_tenant_entity", "cases", ["tenant_id", "entity_kind", "entity", "status"])
    op.create_table(
        "case_alerts",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_case_alerts_tenant_id_cases"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "alert_id", name=op.f("pk_case_alerts")),
    )
    op.create_index("ix_case_alerts_tenant_case", "case_alerts", ["tenant_id", "case_id"])
    op.create_table(
        "verdicts",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "alert_id", name=op.f("pk_verdicts")),
    )
    op.create_index("ix_verdicts_tenant_case", "verdicts", ["tenant_id", "case_id"])
    op.create_index("ix_verdicts_tenant_at", "verdicts", ["tenant_id", "at"])
    op.create_table(
        "triage_models",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("verdicts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_triage_models")),
    )


def downgrade() -> None:
    op.drop_table("triage_models")
    op.drop_index("ix_verdicts_tenant_at", table_name="verdicts")
    op.drop_index("ix_verdicts_tenant_case", table_name="verdicts")
    op.drop_table("verdicts")
    op.drop_index("ix_case_alerts_tenant_case", table_name="case_alerts")
    op.drop_table("case_alerts")
    op.drop_index("ix_cases_tenant_entity", table_name="cases")
    op.drop_index("ix_cases_tenant_status_priority", table_name="cases")
    op.drop_table("cases")
