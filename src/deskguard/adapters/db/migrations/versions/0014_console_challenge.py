"""The console's WebAuthn challenge: one pending ceremony per session, single-use.

A passkey ceremony (registering one on a full session, signing in with one on a half session) stores
its random challenge on the session that asked for it; verifying takes it (a conditional UPDATE), so
a challenge is good once and only for the session it was issued to.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
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
    op.add_column("console_sessions", sa.Column("challenge", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_sessions") as batch:
        batch.drop_column("challenge")
