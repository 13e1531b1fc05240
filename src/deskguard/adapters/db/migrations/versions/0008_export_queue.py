"""SIEM/SOAR export: the persistent delivery queue (with its dead letters) and the ledger cursors.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_queue",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_queue")),
        sa.UniqueConstraint("destination", "item_key", name="uq_export_queue_destination_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_export_queue_due", "export_queue", ["destination", "status", "next_attempt_at"])
    op.create_index("ix_export_queue_tenant_status", "export_queue", ["tenant_id", "status"])
    op.create_table(
        "export_cursors",
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("ledger_idx", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("destination", "tenant_id", name=op.f("pk_export_cursors")),
    )


def downgrade() -> None:
    op.drop_table("export_cursors")
    op.drop_index("ix_export_queue_tenant_status", table_name="export_queue")
    op.drop_index("ix_export_queue_due", table_name="export_queue")
    op.drop_table("export_queue")
