"""Identity-provider log pollers' checkpoints (Okta System Log, Entra directory audits and sign-ins).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idp_poll_cursor",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("next_url", sa.Text(), nullable=False),
        sa.Column("last_time", sa.String(length=64), nullable=False),
        sa.Column("last_id", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "stream", name=op.f("pk_idp_poll_cursor")),
    )


def downgrade() -> None:
    op.drop_table("idp_poll_cursor")
