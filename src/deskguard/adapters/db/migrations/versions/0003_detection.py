"""Detection: alerts, the quarantine of records that could not be normalised, the outbox cursor.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("first_seen", sa.Double(), nullable=False),
        sa.Column("last_seen", sa.Double(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_tenant_last_seen", "alerts", ["tenant_id", "last_seen"])
    op.create_index("ix_alerts_tenant_rule", "alerts", ["tenant_id", "rule_id"])
    op.create_table(
        "quarantine",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_quarantine_tenant_id", "quarantine", ["tenant_id", "id"])
    op.create_table(
        "detection_cursor",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("outbox_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_detection_cursor")),
    )


def downgrade() -> None:
    op.drop_table("detection_cursor")
    op.drop_index("ix_quarantine_tenant_id", table_name="quarantine")
    op.drop_table("quarantine")
    op.drop_index("ix_alerts_tenant_rule", table_name="alerts")
    op.drop_index("ix_alerts_tenant_last_seen", table_name="alerts")
    op.drop_table("alerts")
